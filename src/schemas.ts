// The JSON Schemas the running server needs (scenario files, admin API), as plain objects. They are
// written with TypeBox (scenario/schema.ts, admin/schemas.ts), but TypeBox is 266 modules and ~150 ms of
// start-up: the build writes them as JSON (scripts/write-validator.mjs → dist/schemas.json) and this
// module reads that. Running the sources (tests under tsx), there is no JSON: TypeBox builds them.
import { readFileSync } from 'node:fs';
import type * as AdminSchemas from './admin/schemas.js';

export type AdminSchemaSet = typeof AdminSchemas;

interface SchemaSet {
  scenario: object;
  admin: AdminSchemaSet;
}

async function load(): Promise<SchemaSet> {
  try {
    return JSON.parse(readFileSync(new URL('./schemas.json', import.meta.url), 'utf8')) as SchemaSet;
  } catch {
    const [scenario, admin] = await Promise.all([
      import('./scenario/schema.js'),
      import('./admin/schemas.js'),
    ]);
    return { scenario: scenario.Scenario, admin };
  }
}

const schemas = await load();

/** the scenario file schema (scenario/schema.ts `Scenario`) */
export const SCENARIO_SCHEMA: object = schemas.scenario;
/** the admin API's schemas (admin/schemas.ts), by export name */
export const ADMIN_SCHEMAS: AdminSchemaSet = schemas.admin;
