// The dashboard in real headless Chromium, part two: with --admin-token the page asks for the token,
// keeps it out of every URL and then works; with --admin-readonly its controls are off; and a full
// journal of 10,000 entries is listed by rendering only the rows in view.
import t from 'tap';
import type { ScenarioFile } from '../src/index.js';
import { launchBrowser, NO_CHROMIUM, openPage, screenshot } from './helpers/browser.js';
import { startMock } from './helpers/mock.js';

const scenario: ScenarioFile = {
  name: 'load',
  routes: [
    { id: 'me', path: '/v1.0/me', response: { status: 200, body: { id: 'me' } } },
    { id: 'user', path: '/v1.0/users/:id', response: { status: 200, body: { id: 'u' } } },
  ],
};

const TOKEN = 'dashboard-secret-4f9c';

t.test(
  'with --admin-token the page asks for the token once, sends it as a header, never in a URL',
  {
    skip: NO_CHROMIUM,
  },
  async (t) => {
    const mock = await startMock(t, { scenarios: [scenario], adminToken: TOKEN });
    const browser = await launchBrowser(t);
    const { page, errors, urls } = await openPage(browser);
    const sentHeader: string[] = [];
    page.on('request', (r) => {
      const h = r.headers().authorization;
      if (h) sentHeader.push(`${new URL(r.url()).pathname} ${h}`);
    });

    await page.goto(`${mock.url}/__admin/ui`);
    await page.locator('#token-form').waitFor({ timeout: 5000 });
    t.equal(await page.locator('#views').isHidden(), true, 'no view before the token');

    await page.fill('#token-input', 'wrong');
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-error').waitFor({ timeout: 2000 });
    t.pass('a wrong token is refused and the form says so');

    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.locator('#status.live').waitFor({ timeout: 5000 });
    t.equal(await page.locator('#token-form').isHidden(), true, 'the form is gone');
    await fetch(`${mock.url}/v1.0/me`);
    await page.locator('#rows .row', { hasText: '/v1.0/me' }).waitFor({ timeout: 1000 });
    t.pass('live rows arrive over the token-guarded event stream');

    t.equal(
      await page.evaluate(() => sessionStorage.getItem('m365-mock.adminToken')),
      TOKEN,
      'kept in sessionStorage',
    );
    t.ok(
      sentHeader.some((h) => h === `/__admin/events Bearer ${TOKEN}`),
      'the event stream is fetched with Authorization: Bearer',
    );
    t.same(
      urls.filter((u) => u.includes(TOKEN)),
      [],
      'the token is in no URL the page asked for',
    );

    // a reload in the same tab: sessionStorage still has it, no form
    await page.reload();
    await page.locator('#status.live').waitFor({ timeout: 5000 });
    t.equal(await page.locator('#token-form').isHidden(), true, 'a reload does not ask again');
    t.same(errors, [], 'no script error on the page');
  },
);

t.test('with --admin-readonly the Scenarios controls are off', { skip: NO_CHROMIUM }, async (t) => {
  const mock = await startMock(t, { scenarios: [scenario], adminReadonly: true });
  const browser = await launchBrowser(t);
  const { page } = await openPage(browser);
  await page.goto(`${mock.url}/__admin/ui#scenarios`);
  await page.locator('#status.live').waitFor({ timeout: 5000 });
  await page.locator('#readonly-badge').waitFor({ timeout: 1000 });
  await page.locator('.route-row').first().waitFor({ timeout: 1000 });
  const all = await page.locator('.mutating').count();
  t.ok(all >= 7, `${all} controls (reset, outages, per-route fault and outage)`);
  t.equal(await page.locator('.mutating:disabled').count(), all, 'every one disabled');
  t.equal(await page.locator('#readonly-note').isVisible(), true, 'and the page says why');
});

t.test('10,000 journal entries: only the rows in view are in the page', { skip: NO_CHROMIUM }, async (t) => {
  const mock = await startMock(t, { scenarios: [scenario] });
  const N = 10_000;
  const fill = Date.now();
  await sendMany(mock.url, N, 0);
  t.comment(`${N} requests sent in ${Date.now() - fill} ms`);

  const browser = await launchBrowser(t);
  const { page, errors } = await openPage(browser);
  const load = Date.now();
  await page.goto(`${mock.url}/__admin/ui`);
  await page.locator('#traffic-count', { hasText: `${N} requests` }).waitFor({ timeout: 15_000 });
  t.comment(`page loaded and listed ${N} entries in ${Date.now() - load} ms`);
  const rows = await page.locator('#rows .row').count();
  t.ok(rows > 0 && rows < 100, `${rows} row elements for ${N} entries`);

  // the oldest entry is at the bottom: scrolled there, its row is rendered
  await page.evaluate(() => {
    const box = document.getElementById('rows')!;
    box.scrollTop = box.scrollHeight;
  });
  await page.locator('#rows .row', { hasText: '/v1.0/users/0' }).first().waitFor({ timeout: 2000 });
  t.pass('scrolled to the end, the oldest entry is drawn');
  t.ok((await page.locator('#rows .row').count()) < 100, 'still only the rows in view');

  // 2,000 more while the page is open: they come in batches, the ring keeps the newest 10,000
  await page.evaluate(() => {
    const w = window as unknown as { __longest: number };
    w.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longest = Math.max(w.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
  // back to the top, where the newest arrive
  await page.evaluate(() => {
    document.getElementById('rows')!.scrollTop = 0;
  });
  const more = Date.now();
  await sendMany(mock.url, 2000, N);
  const sent = Date.now() - more;
  await page
    .locator('#rows .row', { hasText: `/v1.0/users/${N + 1999}` })
    .first()
    .waitFor({ timeout: 5000 });
  t.comment(
    `2,000 more requests sent in ${sent} ms, the last one listed ${Date.now() - more - sent} ms later`,
  );
  const longest = await page.evaluate(() => (window as unknown as { __longest: number }).__longest);
  t.comment(`longest main-thread task (≥ 50 ms) while they streamed in: ${Math.round(longest)} ms (0: none)`);
  t.equal(
    await page.locator('#traffic-count').textContent(),
    `${N} requests`,
    'the page keeps 10,000, like the ring',
  );
  t.ok((await page.locator('#rows .row').count()) < 100, 'and still renders only what is in view');

  // the filter runs over all 10,000 entries
  await page.fill('#f-path', '/v1.0/users/1199');
  await page.locator('#traffic-count', { hasText: /^\d+ of 10000 requests$/ }).waitFor({ timeout: 2000 });
  t.equal(await page.locator('#traffic-count').textContent(), '10 of 10000 requests', 'users/11990-11999');
  t.same(errors, [], 'no script error on the page');
  await page.fill('#f-path', '');
  await screenshot(page, 'traffic-10k');
});

/** n GETs of /v1.0/users/<i>, 32 at a time */
async function sendMany(base: string, n: number, from: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = from + next++;
      const res = await fetch(`${base}/v1.0/users/${i}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}
