// Scenario objects → YAML files (the `yaml` package) + data files, then read back through the project's
// own loader, so what is written is exactly what `m365-mock validate` and `--scenario` accept.
// Shared by `record` and `import`.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Document } from 'yaml';
import { loadScenarioPaths } from '../scenario/load.js';
import { formatIssue } from '../scenario/parse.js';
import type { ScenarioFile } from '../scenario/schema.js';

export interface ScenarioToWrite {
  file: string;
  spec: ScenarioFile;
  data: { path: string; bytes: Buffer }[];
  /** comment lines written above the scenario */
  header?: string[];
}

export interface WriteResult {
  files: string[];
  routes: number;
  /** validation problems as file:line:col message (empty when every file loads) */
  issues: string[];
}

function atomicWrite(path: string, bytes: Buffer | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export function scenarioYaml(s: ScenarioToWrite): string {
  const doc = new Document(s.spec);
  const lines = [
    'yaml-language-server: $schema=https://m365-mock.dev/schema/scenario.schema.json',
    ...(s.header ?? []),
  ];
  doc.commentBefore = lines.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

export function writeScenarios(dir: string, scenarios: readonly ScenarioToWrite[]): WriteResult {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let routes = 0;
  for (const s of scenarios) {
    for (const d of s.data) atomicWrite(join(dir, d.path), d.bytes);
    const file = join(dir, s.file);
    atomicWrite(file, scenarioYaml(s));
    files.push(file);
    routes += s.spec.routes.length;
  }
  const loaded = files.length ? loadScenarioPaths(files) : { ok: true as const, scenarios: [] };
  return { files, routes, issues: loaded.ok ? [] : loaded.issues.map(formatIssue) };
}
