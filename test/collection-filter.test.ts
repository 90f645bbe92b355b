// The $filter grammar on its own: precedence, literals, lambdas, and real errors with limits.
import t from 'tap';
import { builtinItems } from '../src/engine/collections/builtin.js';
import { matches, parseFilter } from '../src/graph/odata/filter.js';

const e = {
  id: '8f2a0d7c-3b1e-4b61-9b7e-7e6a0d9b51e4',
  name: "O'Brien",
  age: 42,
  score: -1.5,
  enabled: true,
  manager: { name: 'Megan' },
  created: '2024-03-01T10:00:00Z',
  tags: ['a', 'b'],
  licenses: [{ skuId: 's1' }, { skuId: 's2' }],
  nothing: null,
};
const yes = (f: string) => matches(parseFilter(f), e);

t.test('evaluates what Graph clients send', async (t) => {
  t.ok(yes("name eq 'O''Brien'"), "'' escapes a quote");
  t.ok(yes('id eq 8f2a0d7c-3b1e-4b61-9b7e-7e6a0d9b51e4'), 'bare GUID literal');
  t.ok(yes('created ge 2024-01-01T00:00:00Z and created lt 2025-01-01'), 'bare date-time literals');
  t.ok(yes('score lt -1'), 'negative numbers');
  t.ok(yes('enabled eq true and not (age gt 50)'));
  t.ok(yes("manager/name eq 'megan'"), 'property paths, case-insensitive strings');
  t.ok(yes('nothing eq null and missing eq null'));
  t.ok(yes("age eq 1 or age eq 42 and name eq 'x'") === false, 'and binds tighter than or');
  t.ok(yes("(age eq 1 or age eq 42) and startswith(name,'o''b')"));
  t.ok(yes("tags/any(t:t eq 'b')"));
  t.notOk(yes("tags/all(t:t eq 'b')"));
  t.ok(yes("licenses/any(l:l/skuId eq 's2')"));
  t.ok(yes('tags/any()'));
  t.ok(yes('age in (1, 42)'));
  t.ok(yes("contains(tolower(name),'bri')"));
  t.notOk(yes("endswith(name,'x')"));
  t.ok(parseFilter("endswith(name,'n')").usesEndsWith);
  t.notOk(parseFilter("startswith(name,'n')").usesEndsWith);
});

t.test('real errors, and limits on length and depth', async (t) => {
  for (const bad of [
    '',
    'age eq',
    "name eq 'open",
    'age eq 1 extra',
    'frob(name)',
    'startswith(name)',
    '(age eq 1',
    'age eq 1)',
    '#',
    `${'('.repeat(33)}age eq 1${')'.repeat(33)}`,
    `${'not '.repeat(40)}enabled`,
    `name eq '${'x'.repeat(5000)}'`,
  ]) {
    t.throws(() => parseFilter(bad), { name: 'FilterError' }, JSON.stringify(bad.slice(0, 40)));
  }
  t.doesNotThrow(
    () => parseFilter(`${'('.repeat(30)}age eq 1${')'.repeat(30)}`),
    'reasonable nesting is fine',
  );
});

t.test('builtin data sets come from the tenant files', async (t) => {
  t.ok(builtinItems('users').length >= 50);
  t.ok(builtinItems('groups').length > 0);
  t.ok(builtinItems('messages').length > 0);
  const drive = builtinItems('driveItems');
  t.ok(drive.length > 0);
  t.ok(drive.every((d) => typeof d.id === 'string'));
});
