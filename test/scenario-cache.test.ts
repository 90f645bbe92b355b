// The build's cache of the built-in scenarios (dist/scenario/scenario-cache.json, read by the built
// parser) must give exactly what the yaml parser gives for the same text, and only for that text.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseScenarioText as fromSources } from '../src/scenario/parse.js';

const ROOT = join(import.meta.dirname, '..');
const cache = JSON.parse(readFileSync(join(ROOT, 'dist/scenario/scenario-cache.json'), 'utf8'));

t.test('every built-in scenario is cached, and the cached value equals the parsed YAML', async (t) => {
  const built = await import(join(ROOT, 'dist/scenario/parse.js'));
  const files = readdirSync(join(ROOT, 'scenarios')).filter((n) => /\.ya?ml$/.test(n));
  t.ok(files.length >= 7);
  for (const name of files) {
    const text = readFileSync(join(ROOT, 'scenarios', name), 'utf8');
    t.type(cache[built.scenarioTextKey(text)], 'string', `${name} is in the cache`);
    const cached = built.parseScenarioText(text, name);
    const parsed = fromSources(text, name); // the sources have no cache: the yaml parser
    if (!cached.ok || !parsed.ok) {
      t.fail(`${name} does not parse`);
      continue;
    }
    t.same(cached.value, parsed.value, `${name}: cached value = yaml parser's value`);
  }
});

t.test('a text that differs by one character is parsed afresh, and located in the YAML', async (t) => {
  const built = await import(join(ROOT, 'dist/scenario/parse.js'));
  const text = readFileSync(join(ROOT, 'scenarios/outage-503.yaml'), 'utf8');
  const edited = `${text}\nunknownTopLevelField: 1\n`;
  t.equal(cache[built.scenarioTextKey(edited)], undefined);
  const r = built.parseScenarioText(edited, 'outage-503.yaml');
  t.equal(r.ok, false);
  const lines = edited.split('\n').length;
  t.match(r.issues[0], { file: 'outage-503.yaml', line: lines - 1 }, 'the issue points into the YAML text');
});
