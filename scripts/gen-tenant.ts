// Writes the built-in tenant's data files (scenarios/data/*.json): users, groups and their members,
// Megan Bowen's mailbox, her OneDrive. Deterministic (seeded PRNG): rerunning gives identical files,
// so the committed JSON is reviewable. Run: npx tsx scripts/gen-tenant.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRng } from '../src/engine/random.js';

const rng = createRng(20161010, 'contoso-tenant');
const pick = <T>(list: readonly T[]): T => list[Math.floor(rng.next() * list.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
const guid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}`;
const b64id = (n: number) =>
  Array.from(
    { length: n },
    () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[int(0, 61)],
  ).join('');
/** UTC timestamp with Graph's `Z` form, `daysAgo` before the tenant's reference date */
const REFERENCE = Date.UTC(2024, 9, 14, 9, 0, 0);
const at = (msAgo: number) => new Date(REFERENCE - msAgo).toISOString().replace('.000Z', 'Z');
const daysAgo = (d: number) => at(d * 86_400_000 + int(0, 86_399) * 1000);

const DOMAIN = 'contoso.onmicrosoft.com';
const ME_ID = '87d349ed-44d7-43e1-9a83-5f2406dee5bd';
const TENANT_ID = 'dcd219dd-bc68-4b9b-bf0b-4a33a796be35';
const v1 = 'https://graph.microsoft.com/v1.0/$metadata';

// The people of Microsoft's demo tenant first (fixed ids where they are well known), then more.
const named: Array<[string, string, string, string, string?]> = [
  ['Megan', 'Bowen', 'Marketing Manager', 'Marketing', ME_ID],
  ['Adele', 'Vance', 'Retail Manager', 'Retail', '6e7b768e-07e2-4810-8459-485f84f8f204'],
  ['Alex', 'Wilber', 'Marketing Assistant', 'Marketing'],
  ['Allan', 'Deyoung', 'IT Admin', 'IT'],
  ['Christie', 'Cline', 'Buyer', 'Sales'],
  ['Debra', 'Berger', 'Administrative Assistant', 'Executive Management'],
  ['Diego', 'Siciliani', 'HR Manager', 'HR'],
  ['Emily', 'Braun', 'Budget Analyst', 'Finance'],
  ['Enrico', 'Cattaneo', 'Attorney', 'Legal'],
  ['Grady', 'Archie', 'Designer', 'Research & Development'],
  ['Henrietta', 'Mueller', 'Developer', 'Research & Development'],
  ['Irvin', 'Sayers', 'Director', 'Research & Development'],
  ['Isaiah', 'Langer', 'Sales Rep', 'Sales'],
  ['Johanna', 'Lorenz', 'Senior Engineer', 'Engineering'],
  ['Joni', 'Sherman', 'Paralegal', 'Legal'],
  ['Lee', 'Gu', 'Director', 'Manufacturing'],
  ['Lidia', 'Holloway', 'Product Manager', 'Engineering'],
  ['Lynne', 'Robbins', 'Planner', 'Retail'],
  ['Miriam', 'Graham', 'Director', 'Sales & Marketing'],
  ['Nestor', 'Wilke', 'Director', 'Operations'],
  ['Patti', 'Fernandez', 'President', 'Executive Management'],
  ['Pradeep', 'Gupta', 'Accountant', 'Finance'],
];
const firstNames = [
  'Aaron',
  'Bianca',
  'Carlos',
  'Dana',
  'Elif',
  'Farah',
  'Gustavo',
  'Hana',
  'Ivan',
  'Jasmine',
  'Kenji',
  'Laura',
  'Mateo',
  'Nadia',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Samuel',
  'Tanvi',
  'Uma',
  'Victor',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
  'Anja',
  'Bruno',
  'Chloe',
  'Dmitri',
  'Eva',
  'Felix',
];
const lastNames = [
  'Andersen',
  'Brooks',
  'Castillo',
  'Dubois',
  'Eriksson',
  'Fischer',
  'Garcia',
  'Hoffmann',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Usman',
  'Varga',
  'Weber',
  'Yilmaz',
  'Zhang',
  'Novak',
  'Silva',
  'Murphy',
  'Kim',
];
const jobs: Record<string, string[]> = {
  Sales: ['Sales Rep', 'Account Executive', 'Sales Manager'],
  Marketing: ['Marketing Specialist', 'Content Strategist', 'Brand Manager'],
  Engineering: ['Software Engineer', 'Senior Engineer', 'QA Engineer', 'Engineering Manager'],
  Finance: ['Financial Analyst', 'Accountant', 'Controller'],
  HR: ['HR Generalist', 'Recruiter'],
  IT: ['Systems Administrator', 'Help Desk Technician', 'Network Engineer'],
  Operations: ['Operations Analyst', 'Logistics Coordinator'],
  Legal: ['Paralegal', 'Contracts Manager'],
  Retail: ['Store Manager', 'Merchandiser'],
};
const offices = ['18/2111', '20/1101', '131/1104', '19/3123', '12/1110', '24/1106', '14/1108'];
const cities: Array<[string, string, string, string]> = [
  ['Redmond', 'WA', 'United States', 'US'],
  ['Seattle', 'WA', 'United States', 'US'],
  ['Bellevue', 'WA', 'United States', 'US'],
  ['Charlotte', 'NC', 'United States', 'US'],
  ['Tulsa', 'OK', 'United States', 'US'],
];

interface User extends Record<string, unknown> {
  id: string;
  displayName: string;
  userPrincipalName: string;
  department: string;
}

const used = new Set<string>();
function makeUser(given: string, surname: string, jobTitle: string, department: string, id?: string): User {
  let nick = `${given}${surname[0]}`;
  for (let n = 2; used.has(nick.toLowerCase()); n++) nick = `${given}${surname[0]}${n}`;
  used.add(nick.toLowerCase());
  const [city, state, country, usage] = pick(cities);
  const upn = `${nick}@${DOMAIN}`;
  return {
    id: id ?? guid(),
    businessPhones: [`+1 ${int(200, 989)} 555 0${int(100, 199)}`],
    displayName: `${given} ${surname}`,
    givenName: given,
    jobTitle,
    mail: upn,
    mobilePhone: null,
    officeLocation: pick(offices),
    preferredLanguage: 'en-US',
    surname,
    userPrincipalName: upn,
    accountEnabled: rng.next() > 0.05,
    city,
    state,
    country,
    usageLocation: usage,
    companyName: 'Contoso',
    department,
    employeeId: String(int(100000, 999999)),
    mailNickname: nick,
    userType: 'Member',
    createdDateTime: daysAgo(int(60, 2900)),
  };
}

const users: User[] = named.map(([g, s, j, d, id]) => makeUser(g, s, j, d, id));
while (users.length < 60) {
  const department = pick(Object.keys(jobs));
  users.push(makeUser(pick(firstNames), pick(lastNames), pick(jobs[department]!), department));
}
const me = users[0]!;
const byName = (name: string) => users.find((u) => u.displayName === name)!;

// Groups: Microsoft 365 (Unified) groups and security groups, each with its members.
const groupDefs: Array<[string, string, string, 'unified' | 'security', (u: User) => boolean]> = [
  [
    'Sales and Marketing',
    'SalesAndMarketing',
    'Sales and marketing team',
    'unified',
    (u) => /Sales|Marketing/.test(u.department),
  ],
  [
    'Mark 8 Project Team',
    'Mark8ProjectTeam',
    'Mark 8 launch',
    'unified',
    (u) =>
      [
        'Megan Bowen',
        'Alex Wilber',
        'Lidia Holloway',
        'Johanna Lorenz',
        'Grady Archie',
        'Isaiah Langer',
      ].includes(u.displayName),
  ],
  ['Retail', 'Retail', 'Retail stores and merchandising', 'unified', (u) => u.department === 'Retail'],
  [
    'Engineering',
    'Engineering',
    'Engineering and R&D',
    'unified',
    (u) => /Engineering|Research/.test(u.department),
  ],
  ['Finance', 'Finance', 'Finance and accounting', 'security', (u) => u.department === 'Finance'],
  ['IT Admins', 'ITAdmins', 'Helpdesk and administrators', 'security', (u) => u.department === 'IT'],
];
const groups = groupDefs.map(([displayName, nick, description, kind]) => {
  const unified = kind === 'unified';
  return {
    id: guid(),
    createdDateTime: daysAgo(int(400, 2500)),
    description,
    displayName,
    groupTypes: unified ? ['Unified'] : [],
    mail: unified ? `${nick}@${DOMAIN}` : null,
    mailEnabled: unified,
    mailNickname: nick,
    securityEnabled: !unified,
    visibility: unified ? pick(['Public', 'Private']) : null,
    renewedDateTime: daysAgo(int(10, 300)),
  };
});
const memberFields = (u: User) => ({
  '@odata.type': '#microsoft.graph.user',
  id: u.id,
  businessPhones: u.businessPhones,
  displayName: u.displayName,
  givenName: u.givenName,
  jobTitle: u.jobTitle,
  mail: u.mail,
  mobilePhone: u.mobilePhone,
  officeLocation: u.officeLocation,
  preferredLanguage: u.preferredLanguage,
  surname: u.surname,
  userPrincipalName: u.userPrincipalName,
});
const members: Record<string, unknown> = {};
groupDefs.forEach(([, , , , isMember], i) => {
  members[groups[i]!.id] = {
    '@odata.context': `${v1}#directoryObjects`,
    value: users.filter(isMember).map(memberFields),
  };
});

// Megan's mailbox.
const senders = [
  'Patti Fernandez',
  'Alex Wilber',
  'Lidia Holloway',
  'Miriam Graham',
  'Isaiah Langer',
  'Nestor Wilke',
  'Debra Berger',
  'Johanna Lorenz',
  'Lee Gu',
  'Diego Siciliani',
].map(byName);
const subjects: Array<[string, string]> = [
  [
    'Mark 8 launch plan review',
    'Please review the launch plan before Thursday. I have added the retail timeline.',
  ],
  ['Q3 marketing budget', 'Attached is the proposed Q3 budget. Emily has signed off on the media spend.'],
  [
    'Customer feedback from the Tulsa store',
    'Customers love the new display; two asked about color options.',
  ],
  [
    'Updated brand guidelines',
    'The design team published version 3 of the brand guidelines on the intranet.',
  ],
  ['Team offsite agenda', 'Here is the draft agenda for next month. Let me know if anything is missing.'],
  ['Contract renewal: Fabrikam', 'Legal needs your approval on the Fabrikam renewal by end of week.'],
  ['Press release draft', 'Draft press release for the Mark 8 announcement is ready for comments.'],
  ['Weekly sales numbers', 'Sales are up 12% week over week, mostly from the northwest region.'],
  ['Booth design for the trade show', 'Grady shared three booth concepts; concept B is the favourite.'],
  ['Re: Social campaign results', 'Engagement doubled after we moved the posts to the morning.'],
  ['Onboarding: new marketing assistant', 'Please welcome our new team member on Monday.'],
  ['Product photos', 'The photographer uploaded the final product photos to the team site.'],
];
const mailFolderIds = {
  inbox:
    'AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OAAuAAAAAAAiQ8W967B7TKBjgx9rVEURAQAiIsqMbYjsT5e-T7KzowPTAAAAAAEMAAA=',
};
const messages = Array.from({ length: 36 }, (_, i) => {
  const from = senders[i % senders.length]!;
  const [subject, preview] = subjects[(i * 7) % subjects.length]!;
  const received = at(i * 3_600_000 * int(2, 9) + int(0, 3599) * 1000);
  const addr = (u: User) => ({ emailAddress: { name: u.displayName, address: u.mail } });
  const id = `AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAAAAAAiQ8W967B7TKBjgx9rVEURBwAiIsqMbYjsT5e-T7KzowPTAAAAAAEMAAAiIsqMbYjsT5e-T7KzowPTAA${b64id(6)}AAA=`;
  return {
    '@odata.etag': `W/"CQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAA${b64id(6)}"`,
    id,
    createdDateTime: received,
    lastModifiedDateTime: received,
    changeKey: `CQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAA${b64id(6)}`,
    categories: rng.next() < 0.2 ? ['Red category'] : [],
    receivedDateTime: received,
    sentDateTime: received,
    hasAttachments: rng.next() < 0.25,
    internetMessageId: `<${hex(12).toUpperCase()}@${from.mailNickname}.contoso.com>`,
    subject,
    bodyPreview: preview,
    importance: rng.next() < 0.15 ? 'high' : 'normal',
    parentFolderId: mailFolderIds.inbox,
    conversationId: `AAQkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OAAQA${b64id(22)}=`,
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: i > 5 && rng.next() < 0.8,
    isDraft: false,
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: i % 4 === 3 ? 'other' : 'focused',
    body: {
      contentType: 'html',
      content: `<html><body><p>${preview}</p><p>${from.givenName}</p></body></html>`,
    },
    sender: addr(from),
    from: addr(from),
    toRecipients: [addr(me)],
    ccRecipients: i % 3 === 0 ? [addr(senders[(i + 3) % senders.length]!)] : [],
    bccRecipients: [],
    replyTo: [],
    flag: { flagStatus: i % 5 === 0 ? 'flagged' : 'notFlagged' },
  };
});

// Megan's OneDrive: a drive, its root, folders with files.
const DRIVE_ID = 'b!-RIj2DuyvEyV1T4NlOaMHk8XkS_I8MdFlUCq1BlcjgmhRfAj3-Z8RY2VpuvV_tpd';
const itemId = () => `01BYE5RZ${b64id(26).toUpperCase()}`;
const rootId = '01BYE5RZ56Y2GOVW7725BZO354PWSELRRZ';
const owner = { user: { id: me.id, displayName: me.displayName, email: me.mail } };
const webBase = 'https://contoso-my.sharepoint.com/personal/meganb_contoso_onmicrosoft_com/Documents';
function driveItem(name: string, parentId: string, parentPath: string, folder?: number) {
  const created = daysAgo(int(5, 500));
  const id = itemId();
  const base = {
    '@odata.etag': `"{${guid().toUpperCase()},1}"`,
    id,
    name,
    createdDateTime: created,
    lastModifiedDateTime: created,
    eTag: `"{${guid().toUpperCase()},1}"`,
    cTag: `"c:{${guid().toUpperCase()},0}"`,
    size: folder === undefined ? int(12_000, 4_800_000) : int(100_000, 30_000_000),
    webUrl: `${webBase}${parentPath === '/drive/root:' ? '' : parentPath.slice('/drive/root:'.length)}/${encodeURIComponent(name)}`,
    createdBy: owner,
    lastModifiedBy: owner,
    parentReference: { driveType: 'business', driveId: DRIVE_ID, id: parentId, path: parentPath },
    fileSystemInfo: { createdDateTime: created, lastModifiedDateTime: created },
  };
  if (folder !== undefined) return { ...base, folder: { childCount: folder } };
  const mime: Record<string, string> = {
    docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    pdf: 'application/pdf',
    png: 'image/png',
    jpg: 'image/jpeg',
  };
  const ext = name.split('.').pop()!;
  return {
    ...base,
    file: { mimeType: mime[ext] ?? 'application/octet-stream', hashes: { quickXorHash: `${b64id(27)}=` } },
  };
}
const tree: Record<string, string[]> = {
  'Mark 8 Launch': ['Launch plan.docx', 'Budget.xlsx', 'Press release draft.docx', 'Booth concepts.pptx'],
  'Brand Guidelines': ['Brand guidelines v3.pdf', 'Logo.png', 'Color palette.pdf'],
  'Product Photos': ['Mark 8 front.jpg', 'Mark 8 side.jpg', 'Mark 8 box.jpg'],
};
const rootFiles = ['Q3 Marketing Budget.xlsx', 'Team offsite agenda.docx', 'Customer feedback.docx'];
const rootChildren: Array<Record<string, unknown>> = [];
const folderChildren: Record<string, { name: string; items: unknown[] }> = {};
for (const [folder, files] of Object.entries(tree)) {
  const f = driveItem(folder, rootId, '/drive/root:', files.length);
  rootChildren.push(f);
  folderChildren[f.id] = {
    name: folder,
    items: files.map((n) => driveItem(n, f.id, `/drive/root:/${folder}`)),
  };
}
for (const n of rootFiles) rootChildren.push(driveItem(n, rootId, '/drive/root:'));

const drive = {
  '@odata.context': `${v1}#drives/$entity`,
  id: DRIVE_ID,
  driveType: 'business',
  name: 'OneDrive',
  createdDateTime: me.createdDateTime,
  lastModifiedDateTime: daysAgo(1),
  webUrl: webBase,
  createdBy: { user: { displayName: 'System Account' } },
  owner,
  quota: { deleted: 0, remaining: 1099472905420, state: 'normal', total: 1099511627776, used: 38722356 },
};
const root = {
  '@odata.context': `${v1}#drives('${encodeURIComponent(DRIVE_ID)}')/root/$entity`,
  id: rootId,
  name: 'root',
  createdDateTime: me.createdDateTime,
  lastModifiedDateTime: daysAgo(1),
  webUrl: webBase,
  size: 38722356,
  parentReference: { driveType: 'business', driveId: DRIVE_ID },
  fileSystemInfo: { createdDateTime: me.createdDateTime, lastModifiedDateTime: daysAgo(1) },
  folder: { childCount: rootChildren.length },
  root: {},
};

// ---- write ----
const dir = new URL('../scenarios/data/', import.meta.url);
mkdirSync(new URL('members/', dir), { recursive: true });
mkdirSync(new URL('drive/', dir), { recursive: true });
const write = (name: string, value: unknown) =>
  writeFileSync(new URL(name, dir), `${JSON.stringify(value, null, 2)}\n`);

write('users.json', users);
write('me.json', { '@odata.context': `${v1}#users/$entity`, ...pickDefault(me) });
write('groups.json', groups);
for (const [id, page] of Object.entries(members)) write(`members/${id}.json`, page);
write('messages.json', messages);
write('inbox-messages.json', {
  '@odata.context': `${v1}#users('${me.id}')/mailFolders('inbox')/messages`,
  value: messages.slice(0, 10),
});
write('drive/drive.json', drive);
write('drive/root.json', root);
write('drive/root-children.json', rootChildren);
for (const [id, f] of Object.entries(folderChildren)) {
  write(`drive/${id}-children.json`, {
    '@odata.context': `${v1}#users('${me.id}')/drive/items('${id}')/children`,
    value: f.items,
  });
}
// The first delta round: everything, then a deltaLink on the default port (a static file cannot know
// the port a test picked; the token in it is always treated as expired, see tenant.yaml).
write('drive/delta.json', {
  '@odata.context': `${v1}#Collection(driveItem)`,
  '@odata.deltaLink':
    'http://localhost:4365/v1.0/me/drive/root/delta?token=MzslMjM0OzE7NjM4NjQ2MDY0NjQ2MzQ4NjQ3OzE0OTk2NjU3NTE7OzsxOzA',
  value: [
    { ...root, '@odata.context': undefined },
    ...rootChildren,
    ...Object.values(folderChildren).flatMap((f) => f.items),
  ],
});
write('tenant-ids.json', {
  tenantId: TENANT_ID,
  me: me.id,
  driveId: DRIVE_ID,
  rootId,
  groups: Object.fromEntries(groups.map((g) => [g.displayName, g.id])),
  folders: Object.fromEntries(Object.entries(folderChildren).map(([id, f]) => [f.name, id])),
});

/** GET /me returns Graph's default $select set, not every property. */
function pickDefault(u: User) {
  const keys = [
    'businessPhones',
    'displayName',
    'givenName',
    'jobTitle',
    'mail',
    'mobilePhone',
    'officeLocation',
    'preferredLanguage',
    'surname',
    'userPrincipalName',
    'id',
  ];
  return Object.fromEntries(keys.map((k) => [k, u[k]]));
}
console.log(
  `users ${users.length}, groups ${groups.length}, messages ${messages.length}, drive items ${
    rootChildren.length + Object.values(folderChildren).reduce((n, f) => n + f.items.length, 0)
  }`,
);
