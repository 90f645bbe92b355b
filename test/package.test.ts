// What a user of the npm package does: `npm pack`, install the tarball with production dependencies
// only into an empty folder, run the `m365-mock` bin from there, and import startMockServer from it.
// Catches files missing from package.json "files", dev dependencies needed at run time, and a broken bin.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { startCli } from './helpers/cli.js';
import { getJson } from './helpers/mock.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// npm install takes 20–60 s; the file-level timeout (package.json tap.timeout) would cut it
t.setTimeout(300_000);

t.test('npm pack → npm install --omit=dev → the bin serves', { timeout: 240_000 }, async (t) => {
  if (!existsSync(join(ROOT, 'dist/cli.js'))) {
    t.fail('dist/ is missing: `npm test` builds it first (or run `npm run build`)');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'm365-mock-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const packDir = join(work, 'pack');
  const appDir = join(work, 'app');
  for (const d of [packDir, appDir]) mkdirSync(d);

  // --ignore-scripts: dist/ is already built; a prepack build here would rewrite dist/ under other tests
  const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
    cwd: ROOT,
  });
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const shipped = info.files.map((f) => f.path);
  for (const need of [
    'package.json',
    'README.md',
    'dist/cli.js',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/ui/static/index.html',
    'dist/ui/static/app.js',
    'dist/ui/static/app.css',
    'schema/scenario.schema.json',
  ])
    t.ok(shipped.includes(need), `the package ships ${need}`);
  t.ok(
    shipped.some((p) => /^scenarios\/[^/]+\.ya?ml$/.test(p)),
    'the package ships the built-in scenarios',
  );
  t.notOk(
    shipped.some((p) => /^(src|test|bench|node_modules|\.tap)\//.test(p)),
    'no sources, tests or local folders',
  );
  const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);

  writeFileSync(
    join(appDir, 'package.json'),
    JSON.stringify({ name: 'user-app', private: true, type: 'module' }),
  );
  await run(npm, ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: appDir,
    timeout: 180_000,
  });
  const installed = join(appDir, 'node_modules');
  t.ok(existsSync(join(installed, 'm365-mock/dist/cli.js')));
  t.notOk(existsSync(join(installed, 'tap')), 'dev dependencies are not installed');

  const cli = await startCli(t, ['--port', '0', '--log-level', 'silent'], {
    cwd: appDir,
    command: [join(installed, '.bin/m365-mock')],
  });
  t.ok(cli.scenarios.length > 0, `serves the built-in scenarios: ${cli.scenarios.join(', ')}`);
  const health = await getJson(`${cli.url}/__admin/health`);
  t.equal(health.status, 200);
  t.match(health.body, { status: 'ok' });
  const me = await getJson(`${cli.url}/v1.0/me`);
  t.equal(me.status, 200, 'a built-in route answers');
  t.match(me.body, { id: String, displayName: String });
  const ui = await fetch(`${cli.url}/__admin/ui/app.js`);
  t.equal(ui.status, 200, 'the installed package serves the dashboard');
  await ui.text();
  cli.proc.kill('SIGTERM');
  t.equal((await cli.exited).code, 0);

  // the programmatic API from the installed package, as `import … from 'm365-mock'`
  const script = `import { startMockServer } from 'm365-mock';
const mock = await startMockServer({ port: 0 });
const res = await fetch(mock.url + '/v1.0/me');
console.log(JSON.stringify({ status: res.status, scenarios: mock.scenarios() }));
await mock.close();`;
  writeFileSync(join(appDir, 'use.mjs'), script);
  const used = await run(process.execPath, ['use.mjs'], { cwd: appDir, timeout: 60_000 });
  const out = JSON.parse(used.stdout);
  t.equal(out.status, 200);
  t.same(out.scenarios, cli.scenarios);
  const pkg = JSON.parse(readFileSync(join(installed, 'm365-mock/package.json'), 'utf8'));
  t.ok(existsSync(join(installed, 'm365-mock', pkg.types)), 'type declarations are shipped');
});
