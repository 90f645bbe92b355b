// Starts a `tls: true` mock in this process and runs one SDK's suite against it in a child process
// that trusts the mock's CA through NODE_EXTRA_CA_CERTS (no NODE_TLS_REJECT_UNAUTHORIZED anywhere).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMock } from '../helpers/mock.js';
import { FIXTURES, type Test } from './common.js';

export const SCENARIOS = [fileURLToPath(new URL('sdk.yaml', FIXTURES))];

export async function overHttps(t: Test, sdk: 'graph-client' | 'kiota'): Promise<void> {
  const mock = await startMock(t, { scenarios: SCENARIOS, tls: true });
  t.ok(mock.url.startsWith('https://127.0.0.1:'), 'the mock serves https');
  const caFile = join(mkdtempSync(join(tmpdir(), 'm365-mock-sdk-')), 'ca.pem');
  writeFileSync(caFile, mock.ca ?? '');
  const child = fileURLToPath(new URL('./https-child.ts', import.meta.url));
  await t.spawn(
    process.execPath,
    ['--import=tsx', child, sdk],
    { env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, SDK_MOCK_URL: mock.url } },
    `${sdk} over https`,
  );
}
