// Build step (after tsc): precompiles the scenario validator with ajv's standalone code generation into
// dist/scenario/validate-scenario.js, so start-up does not spend ~0.3 s compiling the schema. The module
// carries a fingerprint of the schema it was made from; parse.ts compiles afresh when it does not match.
import { writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { Scenario } from '../dist/scenario/schema.js';
import { AJV_OPTIONS, schemaFingerprint } from '../dist/scenario/validator.js';

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
