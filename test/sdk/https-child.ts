// Runs one SDK's part of the suite against a mock started by the parent test over https. A child
// process, because Node reads NODE_EXTRA_CA_CERTS (how a user trusts the mock's CA for fetch, which
// both SDKs use) only at start-up; the parent passes the CA of its `tls: true` mock that way.
import t from 'tap';

const url = process.env.SDK_MOCK_URL ?? '';
const target = { url, tls: url.startsWith('https://') };
t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the parent passed the https URL of its mock');
if (!target.tls) t.fail('SDK_MOCK_URL must be the https URL of a running mock');
else if (process.argv[2] === 'kiota') await (await import('./kiota-suite.js')).kiotaSuite(t, target);
else await (await import('./graph-client-suite.js')).graphClientSuite(t, target);
