// Valid JSON scenarios take a JSON.parse fast path (start-up with 10,000 generated routes); whatever
// is wrong with one still gets the yaml path's located errors.
import t from 'tap';
import { loadScenarioText } from '../src/scenario/load.js';
import { parseScenarioText } from '../src/scenario/parse.js';

t.test('valid JSON loads, and compile errors are still located', async (t) => {
  const ok = parseScenarioText(
    '{"name":"j","routes":[{"path":"/v1.0/me","response":{"status":200}}]}',
    'j.json',
  );
  t.equal(ok.ok, true);
  const dup = loadScenarioText(
    '{\n "name": "j",\n "routes": [\n  {"id": "a", "path": "/v1.0/me", "response": {}},\n  {"id": "a", "path": "/v1.0/you", "response": {}}\n ]\n}',
    { label: 'j.json' },
  );
  t.equal(dup.ok, false);
  if (!dup.ok)
    t.match(dup.issues[0], {
      file: 'j.json',
      line: 5,
      message: /duplicate route id 'a' \(first used at line 4\)/,
    });
});

t.test('duplicate and forbidden keys in JSON are refused as in YAML', async (t) => {
  const dup = parseScenarioText('{"name":"a","name":"b","routes":[]}', 'd.json');
  t.match(dup, { ok: false, issues: [{ line: 1, col: 13, message: /unique/ }] });
  const proto = parseScenarioText('{"routes":[],"__proto__":{"x":1}}', 'p.json');
  t.match(proto, { ok: false, issues: [{ message: "key '__proto__' is not allowed" }] });
  const escaped = parseScenarioText('{"description":"a\\":b","routes":[]}', 'e.json');
  t.equal(escaped.ok, true, 'an escaped quote followed by a colon inside a string is not a key');
});
