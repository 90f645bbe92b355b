// Build step (after tsc), three outputs:
// 1. dist/schemas.json: the scenario and admin API schemas as plain JSON, written from their TypeBox
//    sources, so the server never loads TypeBox (266 modules, ~150 ms of start-up; src/schemas.ts);
// 2. dist/scenario/validate-scenario.js: the scenario validator precompiled with ajv's standalone code
//    generation, so start-up does not spend ~0.3 s compiling the schema. It carries a fingerprint of the
//    schema it was made from; validator.ts compiles afresh when it does not match;
// 3. dist/scenario/scenario-cache.json: the built-in scenarios (scenarios/*.yaml) parsed, as JSON by the
//    SHA-256 of their text, so start-up skips the yaml parser for them (~170 ms cold; parse.ts).
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const { Scenario } = await import('../dist/scenario/schema.js');
const admin = await import('../dist/admin/schemas.js');
writeFileSync(
  new URL('../dist/schemas.json', import.meta.url),
  JSON.stringify({ scenario: Scenario, admin: { ...admin } }),
);

// after the JSON above: validator.js reads the schemas through dist/schemas.js
const { AJV_OPTIONS, schemaFingerprint } = await import('../dist/scenario/validator.js');
const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
const code = standaloneCode(ajv, ajv.compile(Scenario));
const out = new URL('../dist/scenario/validate-scenario.js', import.meta.url);
// ajv's esm output still require()s its small runtime helpers (ucs2length)
const prelude =
  "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
writeFileSync(
  out,
  `${prelude}${code}\nexport const fingerprint = ${JSON.stringify(schemaFingerprint(Scenario))};\n`,
);

// the cache is made by the real parser, with no older cache in the way
const cacheFile = new URL('../dist/scenario/scenario-cache.json', import.meta.url);
rmSync(cacheFile, { force: true });
const { parseScenarioText, scenarioTextKey } = await import('../dist/scenario/parse.js');
const scenarios = new URL('../scenarios/', import.meta.url);
const cache = {};
// no scenarios folder (a build without them): an empty cache
const names = existsSync(scenarios) ? readdirSync(scenarios) : [];
for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
  const text = readFileSync(new URL(name, scenarios), 'utf8');
  const r = parseScenarioText(text, name);
  if (!r.ok) throw new Error(`scenarios/${name} does not parse: ${JSON.stringify(r.issues[0])}`);
  const json = JSON.stringify(r.value);
  // only what JSON carries unchanged (no .inf, no NaN) may stand in for the YAML
  if (isDeepStrictEqual(JSON.parse(json), r.value)) cache[scenarioTextKey(text)] = json;
}
writeFileSync(cacheFile, JSON.stringify(cache));
