// The admin flags of the built CLI: --admin-token (also as M365_MOCK_ADMIN_TOKEN), --admin-readonly,
// --journal-size, --watch, and --report FILE written on SIGTERM.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { startCli } from './helpers/cli.js';
import { getJson, tempScenarioDir } from './helpers/mock.js';

const yaml = (v: number) =>
  `name: c\nroutes:\n  - id: busy\n    path: /v1.0/busy\n    response: { status: 429, retryAfter: ${v} }\n`;

t.test('admin flags and --report on shutdown', async (t) => {
  const dir = tempScenarioDir({ 'c.yaml': yaml(5) });
  const reportFile = join(dir, 'report.xml');
  const cli = await startCli(
    t,
    [
      '--port',
      '0',
      '--scenario',
      dir,
      '--admin-readonly',
      '--journal-size',
      '2',
      '--report',
      reportFile,
      '--watch',
    ],
    { env: { M365_MOCK_ADMIN_TOKEN: 'tok' } },
  );
  const auth = { authorization: 'Bearer tok' };
  t.equal((await getJson(`${cli.url}/__admin/health`)).status, 200, 'health needs no token');
  t.equal((await getJson(`${cli.url}/__admin/requests`)).status, 401);
  const reset = await getJson(`${cli.url}/__admin/reset`, { method: 'POST', headers: auth });
  t.equal(reset.status, 403, 'read-only');

  for (let i = 0; i < 3; i++) await getJson(`${cli.url}/v1.0/busy`);
  const journal = await getJson(`${cli.url}/__admin/requests`, { headers: auth });
  t.equal(journal.body.requests.length, 2, '--journal-size 2');
  t.equal(journal.body.requests[0].retryAfter, '5');

  writeFileSync(join(dir, 'c.yaml'), yaml(7));
  const end = Date.now() + 5000;
  let ra: string | null = null;
  while (Date.now() < end && ra !== '7') {
    await new Promise((r) => setTimeout(r, 50));
    ra = (await fetch(`${cli.url}/v1.0/busy`)).headers.get('retry-after');
  }
  t.equal(ra, '7', '--watch reloaded the edit');

  cli.proc.kill('SIGTERM');
  const exit = await cli.exited;
  t.equal(exit.code, 0);
  t.ok(existsSync(reportFile), 'report written on shutdown');
  const xml = readFileSync(reportFile, 'utf8');
  t.equal(XMLValidator.validate(xml), true);
  t.match(xml, /<failure type="early-retry"/);
});
