// /__admin/docs: the admin API's OpenAPI rendered by Swagger UI (src/admin/docs-ui.ts), against the
// real mock on port 0 — over HTTP (files, types, CSP, 404, the token) and in real headless Chromium
// (the operations render, no script error; with --admin-token the page uses the dashboard's token).
import t from 'tap';
import { launchBrowser, NO_CHROMIUM, openPage } from './helpers/browser.js';
import { startMock } from './helpers/mock.js';

t.test('the page and its files are served, nothing else', async (t) => {
  const mock = await startMock(t);
  const page = await fetch(`${mock.url}/__admin/docs`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  t.match(page.headers.get('content-security-policy'), /script-src 'self';/, 'no inline script allowed');
  t.match(await page.text(), /<script src="docs\/swagger-ui-bundle\.js">/);
  for (const [file, type, min] of [
    ['swagger-ui-bundle.js', /^text\/javascript/, 500_000],
    ['swagger-ui.css', /^text\/css/, 50_000],
    ['init.js', /^text\/javascript/, 100],
  ] as const) {
    const res = await fetch(`${mock.url}/__admin/docs/${file}`);
    t.equal(res.status, 200, file);
    t.match(res.headers.get('content-type'), type, `${file} type`);
    t.ok((await res.arrayBuffer()).byteLength > min, `${file} has its content`);
  }
  const missing = await fetch(`${mock.url}/__admin/docs/index.html`);
  t.equal(missing.status, 404, 'only the three files');
  t.match(await missing.json(), { error: { code: 'M365MOCK_NOT_FOUND' } });
  const traversal = await fetch(`${mock.url}/__admin/docs/..%2Fpackage.json`);
  t.equal(traversal.status, 404, 'no path out of swagger-ui-dist');
  const slash = await fetch(`${mock.url}/__admin/docs/`, { redirect: 'manual' });
  t.equal(slash.status, 302, 'a trailing slash goes to the page (its links are relative)');
  t.equal(slash.headers.get('location'), '/__admin/docs');
  const index = await (await fetch(`${mock.url}/__admin/`)).json();
  t.equal(index.docsPage, '/__admin/docs', 'the admin index links it');
});

t.test('with --admin-token the page is open, the document is not', async (t) => {
  const mock = await startMock(t, { adminToken: 's3cret' });
  t.equal((await fetch(`${mock.url}/__admin/docs`)).status, 200);
  t.equal((await fetch(`${mock.url}/__admin/docs/json`)).status, 401);
  const authed = await fetch(`${mock.url}/__admin/docs/json`, {
    headers: { authorization: 'Bearer s3cret' },
  });
  t.equal(authed.status, 200);
});

t.test('Swagger UI renders the admin API in Chromium', { skip: NO_CHROMIUM }, async (t) => {
  const browser = await launchBrowser(t);
  for (const token of [undefined, 's3cret']) {
    const mock = await startMock(t, token ? { adminToken: token } : {});
    const { page, errors } = await openPage(browser);
    // the dashboard keeps the token here once signed in; the docs page sends it with every call
    if (token) await page.addInitScript((v) => sessionStorage.setItem('m365-mock.adminToken', v), token);
    const res = await page.goto(`${mock.url}/__admin/docs`);
    t.equal(res?.status(), 200);
    await page.locator('.opblock').first().waitFor({ timeout: 10_000 });
    t.match(await page.locator('.info .title').textContent(), /m365-mock admin API/, 'the title');
    const operations = await page.locator('.opblock').count();
    t.ok(operations >= 20, `the operations are listed (${operations})`);
    t.ok(
      await page.locator('.opblock-summary-path', { hasText: '/__admin/reset' }).count(),
      'POST /__admin/reset among them',
    );
    t.same(errors, [], `no script error${token ? ' (with the token)' : ''}`);
    await page.context().close();
  }
});
