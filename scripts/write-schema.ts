// Writes schema/scenario.schema.json from the TypeBox source the loader validates with.
// test/schema.test.ts fails if the committed file drifts from the source.
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from '../src/scenario/schema.js';

const out = new URL('../schema/scenario.schema.json', import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...scenarioJsonSchema() }, null, 2)}\n`,
);
console.log(`wrote ${out.pathname}`);
