// Real clients against the mock's local Entra over --tls: @azure/identity's ClientSecretCredential and
// @azure/msal-node's ConfidentialClientApplication get tokens from it (only the authority host points
// at the mock), Kiota and the Graph JS client call Graph with them; `permissions: enforce` lets the
// User.Read.All app list users and answers POST /groups with 403; the permissions report names what
// the groups call needed. The clients run in a child process that trusts the mock's CA and records
// every host it reaches (test/identity/clients-child.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { ScenarioFile } from '../src/index.js';
import { startMock } from './helpers/mock.js';

export const TENANT = 'b2c0f6e1-3d4a-4f5b-9c6d-7e8f9a0b1c2d';
export const READER = { clientId: '5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', secret: 'reader-secret-1' };
export const USER = { username: 'AdeleV@fabrikam.onmicrosoft.com', password: 'p@ss-w0rd' };

export const SCENARIO: ScenarioFile = {
  name: 'entra',
  auth: 'required',
  permissions: 'enforce',
  identity: {
    tenants: [{ id: TENANT, domain: 'fabrikam.onmicrosoft.com' }],
    apps: [
      {
        clientId: READER.clientId,
        name: 'user-reader',
        secret: READER.secret,
        permissions: { application: ['User.Read.All'], delegated: ['User.Read'] },
      },
    ],
    users: [
      {
        username: USER.username,
        password: USER.password,
        id: '6e7b768e-07e2-4810-8459-485f84f8f204',
        displayName: 'Adele Vance',
      },
    ],
  },
  routes: [
    {
      id: 'users',
      path: '/:version/users',
      collection: {
        items: [
          { id: '6e7b768e-07e2-4810-8459-485f84f8f204', displayName: 'Adele Vance' },
          { id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', displayName: 'Megan Bowen' },
        ],
      },
    },
    { id: 'groups', path: '/:version/groups', collection: { items: [] } },
    { id: 'me', path: '/:version/me', response: { body: { id: '6e7b768e-07e2-4810-8459-485f84f8f204' } } },
  ],
};

t.test(
  '@azure/identity, msal-node, Kiota and the Graph JS client against the local Entra over https',
  async (t) => {
    const mock = await startMock(t, { scenarios: [SCENARIO], tls: true });
    const caFile = join(mkdtempSync(join(tmpdir(), 'm365-mock-identity-')), 'ca.pem');
    writeFileSync(caFile, mock.ca ?? '');
    const child = fileURLToPath(new URL('./identity/clients-child.ts', import.meta.url));
    await t.spawn(
      process.execPath,
      ['--import=tsx', child],
      {
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: caFile,
          IDENTITY_MOCK_URL: mock.url,
          IDENTITY_CONFIG: JSON.stringify({ tenant: TENANT, reader: READER, user: USER }),
        },
      },
      'the clients',
    );

    // the same report as GET /__admin/permissions (test/identity.test.ts reads it over HTTP)
    const report = JSON.parse(JSON.stringify(mock.permissions()));
    t.equal(report.mode, 'enforce');
    const reader = report.clients.find((c: { appid: string }) => c.appid === READER.clientId);
    t.ok(reader, 'the reader app is in the report');
    t.equal(reader.name, 'user-reader');
    t.same(reader.tokenKinds.sort(), ['application', 'delegated']);
    const groups = reader.uncovered.find(
      (u: { method: string; path: string }) => u.method === 'POST' && u.path === '/groups',
    );
    t.ok(groups, 'POST /groups is a call its token did not cover');
    t.same(
      groups.needs,
      ['Group.Create'],
      "the map's least-privileged application permission for POST /groups",
    );
    t.ok(reader.leastPrivileged.application.includes('Group.Create'));
    t.ok(reader.leastPrivileged.delegated.includes('Group.ReadWrite.All'), 'delegated: Group.ReadWrite.All');
    t.ok(
      reader.leastPrivileged.application.includes('User.ReadBasic.All'),
      'listing users needs User.ReadBasic.All at least',
    );
    const list = reader.requests.find(
      (r: { method: string; path: string }) => r.method === 'GET' && r.path === '/users',
    );
    t.equal(list.covered, true, 'GET /users was covered by User.Read.All');
    t.ok(list.application.includes('User.Read.All'));
  },
);
