// Files and folders → compiled scenarios. A folder contributes the *.yaml, *.yml and *.json files at
// its top level; subfolders hold data files (bodyFile, itemsFile) and are not read as scenarios.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { compileScenario } from './compile.js';
import type { CompiledScenario } from './compiled.js';
import { LIMITS, parseScenarioText, type ScenarioIssue } from './parse.js';

export type LoadResult = { ok: true; scenarios: CompiledScenario[] } | { ok: false; issues: ScenarioIssue[] };

const SCENARIO_FILE = /\.(ya?ml|json)$/i;

/** Expands folders to their scenario files, sorted by name so the load order is stable. */
export function scenarioFiles(paths: readonly string[]): { files: string[]; issues: ScenarioIssue[] } {
  const files: string[] = [];
  const issues: ScenarioIssue[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(abs);
    } catch {
      issues.push({ file: p, line: 1, col: 1, message: 'no such file or folder' });
      continue;
    }
    if (st.isDirectory()) {
      const found = readdirSync(abs)
        .filter((f) => SCENARIO_FILE.test(f))
        .sort()
        .map((f) => join(abs, f))
        .filter((f) => statSync(f).isFile());
      if (found.length === 0)
        issues.push({
          file: p,
          line: 1,
          col: 1,
          message: 'folder holds no *.yaml, *.yml or *.json scenario',
        });
      files.push(...found);
    } else files.push(abs);
  }
  return { files, issues };
}

export function loadScenarioFile(file: string, seedOverride?: number): LoadResult {
  let text: string;
  try {
    const st = statSync(file);
    if (st.size > LIMITS.maxBytes) {
      return {
        ok: false,
        issues: [{ file, line: 1, col: 1, message: `file is larger than ${LIMITS.maxBytes} bytes` }],
      };
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      ok: false,
      issues: [
        { file, line: 1, col: 1, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}` },
      ],
    };
  }
  return loadScenarioText(text, { file, baseDir: dirname(file), seedOverride });
}

export function loadScenarioText(
  text: string,
  opts: { file?: string; label?: string; baseDir?: string; seedOverride?: number; maxYamlBytes?: number },
): LoadResult {
  const label = opts.file ?? opts.label ?? '<scenario>';
  const parsed = parseScenarioText(text, label, opts.maxYamlBytes);
  if (!parsed.ok) return parsed;
  const compiled = compileScenario(parsed.value, { ...opts, locate: parsed.locate });
  if (!compiled.ok) return compiled;
  return { ok: true, scenarios: [compiled.scenario] };
}

/** Loads every file; all problems of all files are reported together, names must be unique. */
export function loadScenarioPaths(paths: readonly string[], seedOverride?: number): LoadResult {
  const { files, issues } = scenarioFiles(paths);
  const scenarios: CompiledScenario[] = [];
  const names = new Map<string, string>();
  for (const f of files) {
    const r = loadScenarioFile(f, seedOverride);
    if (!r.ok) {
      issues.push(...r.issues);
      continue;
    }
    for (const s of r.scenarios) {
      const other = names.get(s.name);
      if (other)
        issues.push({
          file: f,
          line: 1,
          col: 1,
          message: `scenario name '${s.name}' is already used by ${other}`,
        });
      names.set(s.name, f);
      scenarios.push(s);
    }
  }
  if (issues.length) return { ok: false, issues };
  return { ok: true, scenarios };
}
