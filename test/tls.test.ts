// --tls: the mock serves HTTPS with a certificate made at start; a client that downloads the CA from
// /__admin/tls/ca.pem can verify the connection (127.0.0.1 and localhost). --tls-cert/--tls-key serve the
// user's own certificate.
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import t from 'tap';
import { tlsMaterial } from '../src/tls.js';
import { runCli, startCli } from './helpers/cli.js';
import { getJson, startMock, tempScenarioDir } from './helpers/mock.js';

const SCENARIO = {
  name: 'secure',
  routes: [
    { id: 'me', method: 'GET', path: '/:version/me', response: { body: { displayName: 'Megan Bowen' } } },
  ],
};

interface HttpsAnswer {
  status: number;
  body: string;
  authorized: boolean;
}

/** node:https with an explicit trust store: `ca` verifies, `insecure` only for fetching the CA itself */
function httpsGet(url: string, opts: { ca?: string; insecure?: boolean } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: opts.ca, rejectUnauthorized: !opts.insecure, agent: false }, (res) => {
      let body = '';
      const authorized = (res.socket as { authorized?: boolean }).authorized === true;
      res.setEncoding('utf8').on('data', (s) => {
        body += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authorized }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test(
  'a self-signed certificate made at start; clients verify it with the CA from /__admin/tls/ca.pem',
  async (t) => {
    const mock = await startMock(t, { scenarios: [SCENARIO], tls: true });
    t.match(mock.url, /^https:\/\/127\.0\.0\.1:\d+$/);

    // without the CA, verification fails: the server is not trusted by accident
    await t.rejects(httpsGet(`${mock.url}/v1.0/me`), { code: /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/ });

    // a client that has nothing yet downloads the CA (like `curl -k`), then verifies with it
    const ca = await httpsGet(`${mock.url}/__admin/tls/ca.pem`, { insecure: true });
    t.equal(ca.status, 200);
    t.match(ca.body, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/);
    t.equal(ca.body, mock.ca);

    for (const host of ['127.0.0.1', 'localhost']) {
      const res = await httpsGet(`https://${host}:${mock.port}/v1.0/me`, { ca: ca.body });
      t.equal(res.status, 200, host);
      t.ok(res.authorized, `the certificate verifies for ${host}`);
      t.same(JSON.parse(res.body), { displayName: 'Megan Bowen' });
    }
    const health = await httpsGet(`https://localhost:${mock.port}/__admin/health`, { ca: ca.body });
    t.equal(health.status, 200, 'the admin API is on the same HTTPS port');
  },
);

t.test('the CA endpoint answers 404 when TLS is off', async (t) => {
  const mock = await startMock(t, { scenarios: [SCENARIO] });
  const res = await getJson(`${mock.url}/__admin/tls/ca.pem`);
  t.equal(res.status, 404);
  t.equal(res.body.error.code, 'M365MOCK_TLS_OFF');
});

t.test(
  'CLI --tls-cert/--tls-key serve the given certificate; healthcheck finds the HTTPS server',
  async (t) => {
    const own = await tlsMaterial({ hosts: ['localhost'] });
    const dir = tempScenarioDir({ 'secure.json': JSON.stringify(SCENARIO) });
    writeFileSync(`${dir}/cert.pem`, own.cert);
    writeFileSync(`${dir}/key.pem`, own.key);
    const cli = await startCli(t, [
      '--port',
      '0',
      '-s',
      `${dir}/secure.json`,
      '--tls-cert',
      `${dir}/cert.pem`,
      '--tls-key',
      `${dir}/key.pem`,
      '--log-level',
      'silent',
    ]);
    t.match(cli.url, /^https:\/\//, 'the readiness line says https');
    const ca = await httpsGet(`${cli.url}/__admin/tls/ca.pem`, { insecure: true });
    t.equal(ca.body, own.cert, 'the CA endpoint serves the given certificate');
    const res = await httpsGet(`https://localhost:${cli.port}/v1.0/me`, { ca: own.cert });
    t.equal(res.status, 200);
    t.ok(res.authorized);
    // the Docker HEALTHCHECK does not know the server speaks TLS: the probe falls back to https
    const hc = await runCli(['healthcheck', '--port', String(cli.port)]);
    t.equal(hc.code, 0, hc.stderr);
  },
);
