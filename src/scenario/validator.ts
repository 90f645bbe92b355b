// The scenario validator: ajv compiled from the TypeBox schema. Compiling it costs ~0.3 s of start-up,
// so the build precompiles it (scripts/write-validator.mjs → dist/scenario/validate-scenario.js) and
// start-up loads that, unless its schema fingerprint is stale (or it is missing, as under tsx): then
// it compiles here as before.
import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { SCENARIO_SCHEMA } from '../schemas.js';
import type { ScenarioFile } from './schema.js';

export const AJV_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true, verbose: true } as const;

export function schemaFingerprint(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

export async function scenarioValidator(): Promise<ValidateFunction<ScenarioFile>> {
  const precompiled = './validate-scenario.js';
  try {
    const m = (await import(precompiled)) as { default: ValidateFunction<ScenarioFile>; fingerprint: string };
    if (m.fingerprint === schemaFingerprint(SCENARIO_SCHEMA)) return m.default;
  } catch {
    // not built (tests run the sources): compile below
  }
  const { Ajv } = await import('ajv');
  return new Ajv(AJV_OPTIONS).compile<ScenarioFile>(SCENARIO_SCHEMA);
}
