// The dashboard at /__admin/ui in real headless Chromium against the real mock on port 0: a throttled
// burst through the Graph JS SDK's RetryHandler shows up as rows and a retry chain, filters and the
// entry panel work, the Scenarios view switches an outage on (and the next request fails), and a
// <script> in a request path is shown as text and never runs. Screenshots go to docs/img/.
import {
  Client,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import type { Page } from 'playwright-core';
import t from 'tap';
import type { ScenarioFile } from '../src/index.js';
import { launchBrowser, NO_CHROMIUM, openPage, screenshot } from './helpers/browser.js';
import { jwt } from './helpers/jwt.js';
import { getJson, startMock } from './helpers/mock.js';
import { rawRequest } from './helpers/raw.js';

const ok = { status: 200, body: { id: 'root', displayName: 'Contoso' } };

const dashboard: ScenarioFile = {
  name: 'dash',
  throttles: {
    // 3 requests per 2 s per app: a burst of 6 gets three 429s the SDK waits out
    burst: { algorithm: 'fixed-window', limit: 3, window: '2s', scope: ['app'] },
    // one call per 2 s: the hammering client below gets early retries, then gives up
    reports: { algorithm: 'fixed-window', limit: 1, window: '2s', scope: ['app'] },
    // a bucket of 10 refilling 1 a second: the Throttles view shows it drain
    lists: { algorithm: 'token-bucket', limit: 10, window: '10s', scope: ['app'] },
  },
  routes: [
    { id: 'items', path: '/v1.0/sites/root/lists/events/items', throttle: 'burst', response: ok },
    { id: 'reports', path: '/v1.0/reports/getEmailActivityUserDetail', throttle: 'reports', response: ok },
    { id: 'lists', path: '/v1.0/sites/root/lists', throttle: 'lists', response: ok },
    { id: 'me', path: '/v1.0/me', response: ok },
    { id: 'send-mail', method: 'POST', path: '/v1.0/me/sendMail', response: { status: 202 } },
  ],
};

const WITHIN_1S = { timeout: 1000 };

t.test(
  'the dashboard shows traffic, retries, throttles, scenarios and unmatched requests live',
  {
    skip: NO_CHROMIUM,
  },
  async (t) => {
    const mock = await startMock(t, { scenarios: [dashboard] });
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser);

    const res = await page.goto(`${mock.url}/__admin/ui`);
    t.equal(res?.status(), 200, 'the page is served');
    t.match(res?.headers()['content-security-policy'], /default-src 'self'/, 'with a strict CSP');
    await page.locator('#status.live').waitFor({ timeout: 5000 });

    // ---- a throttled burst through the real SDK: rows and a retry chain appear within 1 s ----
    const retry = new RetryHandler(new RetryHandlerOptions(3, 3));
    retry.setNext(new HTTPMessageHandler());
    const token = jwt({ tid: 'contoso', appid: 'app-dashboard', name: 'Dashboard Test' });
    const client = Client.initWithMiddleware({
      baseUrl: mock.url,
      defaultVersion: 'v1.0',
      middleware: retry,
      fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    });
    const burst = Promise.all(
      Array.from({ length: 6 }, () => client.api('/sites/root/lists/events/items').get()),
    );
    await page.locator('#rows .row.s429').first().waitFor(WITHIN_1S);
    await t.resolves(
      page.waitForFunction(() => document.querySelectorAll('#rows .row').length >= 6, undefined, WITHIN_1S),
      'the whole burst is listed',
    );
    await page.click('#tabs [data-view=retries]');
    await page.locator('.chain').first().waitFor(WITHIN_1S);
    t.pass('a retry chain is drawn within 1 s of the first 429');
    const answers = await burst;
    t.equal(answers.length, 6, 'the SDK got every answer (it waited out each Retry-After)');
    await page.locator('.chain[data-outcome=recovered]').first().waitFor({ timeout: 3000 });
    // green when it waited long enough, red when early (concurrent first calls count as early retries)
    const recovered = page.locator('.chain[data-outcome=recovered]').first();
    t.ok(await recovered.locator('.bar.waited, .bar.early').count(), 'bars of what the client waited');
    t.ok(await recovered.locator('.bar.asked').count(), 'against what it was told');

    // ---- a client that ignores Retry-After: early retries marked, then it gives up ----
    const hammer = { headers: { authorization: `Bearer ${jwt({ tid: 'contoso', appid: 'app-naive' })}` } };
    for (let i = 0; i < 3; i++) await fetch(`${mock.url}/v1.0/reports/getEmailActivityUserDetail`, hammer);
    for (let i = 0; i < 8; i++) await fetch(`${mock.url}/v1.0/sites/root/lists`, hammer);
    await page.click('#tabs [data-view=throttles]');
    const throttled = page.locator('.throttle-key.throttled');
    await throttled.first().waitFor(WITHIN_1S);
    t.match(await throttled.first().locator('.countdown').textContent(), /Retry-After: \d+\.\d s left/);
    await page.locator('.throttle-key', { hasText: 'token-bucket' }).waitFor(WITHIN_1S);
    t.equal(await page.locator('.throttle-key').count(), 3, 'one card per limiter key');
    // let the bucket drain a little on screen before the picture
    await page.waitForTimeout(1500);
    await screenshot(page, 'throttles');
    await page.click('#tabs [data-view=retries]');
    await page.locator('.chain .bar.early').first().waitFor(WITHIN_1S);
    t.pass('early retries are marked');
    // given up: the Retry-After (≤ 2 s) plus the report's 1 s grace pass with no retry
    await page.locator('.chain[data-outcome=gave-up]').first().waitFor({ timeout: 6000 });
    t.ok(await page.locator('.chain[data-outcome=gave-up] .gaveup-mark').count(), 'the give-up is marked');
    t.equal((await page.locator('.stat.bad').count()) > 0, true, 'the totals flag the non-compliance');
    await screenshot(page, 'retries');

    // ---- Traffic: filters, the entry panel with decoded claims, body, batch items ----
    await fetch(`${mock.url}/v1.0/me/sendMail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message: { subject: 'Quarterly <b>numbers</b>' } }),
    });
    const batch = await getJson(`${mock.url}/v1.0/$batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: [
          { id: '1', method: 'GET', url: '/me' },
          { id: '2', method: 'GET', url: '/sites/root/lists/events/items' },
        ],
      }),
    });
    t.equal(batch.status, 200, 'the $batch answered');
    await page.click('#tabs [data-view=traffic]');
    await page.locator('#rows .row', { hasText: '/v1.0/$batch' }).first().waitFor(WITHIN_1S);

    const journal429 = (
      await getJson(`${mock.url}/__admin/requests/count`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"status":429}',
      })
    ).body.count;
    await page.fill('#f-status', '429');
    await t.resolves(waitForRows(page, journal429), `the 429 filter shows the journal's ${journal429}`);
    t.same(await statuses(page), Array(journal429).fill('429'), 'and only 429s');
    await page.fill('#f-status', '');
    await page.selectOption('#f-method', 'POST');
    await page.fill('#f-path', 'sendmail');
    await t.resolves(waitForRows(page, 1), 'method + path filter: the one sendMail');
    await page.locator('#rows .row').first().click();
    const detail = page.locator('#detail');
    await detail.waitFor(WITHIN_1S);
    const detailText = (await detail.textContent()) ?? '';
    t.match(detailText, /"appid": "app-dashboard"/, 'the token claims, decoded');
    t.match(detailText, /Quarterly <b>numbers<\/b>/, 'the body, as text');
    t.equal(await detail.locator('b').count(), 0, 'the body’s markup is not markup');
    await page.selectOption('#f-method', '');
    await page.fill('#f-path', '$batch');
    await t.resolves(waitForRows(page, 1), 'the $batch request');
    await page.locator('#rows .row').first().click();
    await t.resolves(
      detail.locator('.batch-items li').nth(1).waitFor(WITHIN_1S),
      'its two items are listed in the panel',
    );
    await page.fill('#f-path', '');
    await page.fill('#f-route', 'items');
    await page.locator('#rows .row.s429').first().click();
    await screenshot(page, 'traffic');
    await page.fill('#f-route', '');
    await page.click('#detail .close');

    // ---- Scenarios: switch an outage on for /v1.0/me, the next request fails; then a fault ----
    await page.click('#tabs [data-view=scenarios]');
    const me = page.locator('.route-row[data-route="dash/me"]');
    await me.locator('.outage-toggle').click();
    await me.locator('.outage-toggle.on').waitFor(WITHIN_1S);
    const down = await fetch(`${mock.url}/v1.0/me`);
    t.equal(down.status, 503, 'the next request fails: the outage is on');
    t.ok(down.headers.get('retry-after'), 'with a Retry-After');
    await screenshot(page, 'scenarios');
    await me.locator('.outage-toggle').click();
    await me.locator('.outage-toggle:not(.on)').waitFor(WITHIN_1S);
    t.equal((await fetch(`${mock.url}/v1.0/me`)).status, 200, 'outage off: answered again');
    await me.locator('input.prob').fill('1');
    await me.locator('.apply-prob').click();
    await t.resolves(
      page.waitForFunction(
        () =>
          (document.querySelector('.route-row[data-route="dash/me"] input.prob') as HTMLInputElement)
            ?.value === '1',
        undefined,
        WITHIN_1S,
      ),
      'the patched route is shown with its fault',
    );
    t.equal((await fetch(`${mock.url}/v1.0/me`)).status, 503, 'fault probability 1: every call fails');
    const patched = (await getJson(`${mock.url}/__admin/routes/dash%2Fme`)).body;
    t.equal(patched.faults?.[0]?.probability, 1, 'the route was PATCHed with the probability');

    // ---- Unmatched, with the nearest routes ----
    await fetch(`${mock.url}/v1.0/sites/root/lists/events/itemz`);
    await page.click('#tabs [data-view=unmatched]');
    const row = page.locator('.unmatched-row', { hasText: '/v1.0/sites/root/lists/events/itemz' });
    await row.waitFor({ timeout: 2000 });
    t.match(await row.textContent(), /\/v1\.0\/sites\/root\/lists\/events\/items/, 'the near miss is named');
    await screenshot(page, 'unmatched');

    // ---- a hostile path and body: text, never markup, never run ----
    const hostile = '/v1.0/users/<script>window.__pwned=1</script><img/src=x/onerror=window.__pwned=2>';
    const raw = await rawRequest(mock.port, [
      `GET ${hostile} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    ]);
    t.ok(raw.status && raw.status >= 400 && raw.status < 500, `the mock answered ${raw.status}`);
    await page.click('#tabs [data-view=traffic]');
    const bad = page.locator('#rows .row', { hasText: '<script>' });
    await bad.first().waitFor(WITHIN_1S);
    t.match(
      await bad.first().locator('.c-path').textContent(),
      hostile,
      'the path is shown as sent, as text',
    );
    await bad.first().click();
    await page.locator('#detail .detail-url', { hasText: '<script>' }).waitFor(WITHIN_1S);
    t.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined, 'nothing ran');
    t.equal(await page.locator('main script, main img').count(), 0, 'no element was made from it');

    t.same(errors, [], 'no script error on the page');
  },
);

/** resolves once the list holds exactly n rows (the list is virtual: n is small here) */
function waitForRows(page: Page, n: number) {
  return page.waitForFunction((want) => document.querySelectorAll('#rows .row').length === want, n, {
    timeout: 2000,
  });
}

async function statuses(page: Page): Promise<string[]> {
  return page.locator('#rows .row .c-status').allTextContents();
}
