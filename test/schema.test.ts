import { readFileSync } from 'node:fs';
import t from 'tap';
import { scenarioJsonSchema } from '../src/scenario/schema.js';

t.test('the committed JSON Schema is generated from the validator source', async (t) => {
  const committed = JSON.parse(
    readFileSync(new URL('../schema/scenario.schema.json', import.meta.url), 'utf8'),
  );
  const { $schema, ...rest } = committed;
  t.equal($schema, 'http://json-schema.org/draft-07/schema#');
  t.same(rest, scenarioJsonSchema(), 'run `npm run schema` after changing src/scenario/schema.ts');
});
