// --watch: reloads scenario files when they change. Folders are watched rather than files, because
// editors save by writing a new file and renaming it over the old one (a file watch would go
// silent). Events are debounced per file; a file that fails validation is logged with
// file:line:col and its last good version keeps serving; other scenarios keep their state
// (MockEngine.load replaces only the named scenario). Unchanged content is not reloaded.
import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, statSync, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { MockEngine } from '../engine/engine.js';
import { loadScenarioTextGuarded } from './guarded-load.js';
import type { LoadResult } from './load.js';
import { formatIssue, LIMITS, type ScenarioIssue } from './parse.js';

export const DEFAULT_DEBOUNCE_MS = 100;
const SCENARIO_FILE = /\.(ya?ml|json)$/i;

export type ReloadEvent =
  | { kind: 'loaded'; file: string; scenario: string }
  | { kind: 'invalid'; file: string; issues: ScenarioIssue[] }
  | { kind: 'removed'; file: string; scenario: string };

export interface WatchOptions {
  /** the scenario files and folders given at start */
  paths: readonly string[];
  engine: MockEngine;
  logger: Logger;
  seed?: number;
  debounceMs?: number;
  onReload?: (e: ReloadEvent) => void;
}

export interface ScenarioWatcher {
  close(): void;
}

export function watchScenarios(opts: WatchOptions): ScenarioWatcher {
  const debounce = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  /** folder → the file names watched in it ('*' = every scenario file: the folder itself was given) */
  const folders = new Map<string, Set<string>>();
  for (const p of opts.paths) {
    const abs = resolve(p);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {}
    const dir = isDir ? abs : dirname(abs);
    const names = folders.get(dir) ?? new Set<string>();
    names.add(isDir ? '*' : basename(abs));
    folders.set(dir, names);
  }

  // what each file last loaded, so a rename inside the file unloads the old name and a save
  // without changes keeps the scenario's state
  const loaded = new Map<string, { scenario: string; hash: string }>();
  for (const s of opts.engine.scenarios) {
    if (!s.file) continue;
    try {
      loaded.set(s.file, { scenario: s.name, hash: hashOf(readFileSync(s.file, 'utf8')) });
    } catch {}
  }

  const timers = new Map<string, NodeJS.Timeout>();
  const emit = (e: ReloadEvent) => {
    if (e.kind === 'invalid') {
      opts.logger.error(
        { file: e.file, issues: e.issues.map(formatIssue) },
        `scenario reload failed, the last good version keeps serving:\n${e.issues.map(formatIssue).join('\n')}`,
      );
    } else opts.logger.info({ file: e.file, scenario: e.scenario }, `scenario ${e.kind}`);
    opts.onReload?.(e);
  };

  const reload = (file: string) => {
    timers.delete(file);
    let text: string;
    try {
      const st = statSync(file);
      if (!st.isFile()) return;
      if (st.size > LIMITS.maxBytes) {
        emit({
          kind: 'invalid',
          file,
          issues: [{ file, line: 1, col: 1, message: `file is larger than ${LIMITS.maxBytes} bytes` }],
        });
        return;
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
      const was = loaded.get(file);
      if (was) {
        opts.engine.unload(was.scenario);
        loaded.delete(file);
        emit({ kind: 'removed', file, scenario: was.scenario });
      }
      return;
    }
    const hash = hashOf(text);
    const was = loaded.get(file);
    if (was?.hash === hash) return;
    // a reload runs in a timer: whatever the file holds, it must not take the process down
    let r: LoadResult;
    try {
      r = loadScenarioTextGuarded(text, { file, baseDir: dirname(file), seedOverride: opts.seed });
    } catch (err) {
      r = { ok: false, issues: [{ file, line: 1, col: 1, message: `cannot load: ${err}` }] };
    }
    if (!r.ok) {
      emit({ kind: 'invalid', file, issues: r.issues });
      return;
    }
    const s = r.scenarios[0]!;
    const owner = opts.engine.scenarios.find((x) => x.name === s.name && x.file && x.file !== file);
    if (owner) {
      emit({
        kind: 'invalid',
        file,
        issues: [
          { file, line: 1, col: 1, message: `scenario name '${s.name}' is already used by ${owner.file}` },
        ],
      });
      return;
    }
    opts.engine.load(r.scenarios);
    if (was && was.scenario !== s.name) opts.engine.unload(was.scenario);
    loaded.set(file, { scenario: s.name, hash });
    emit({ kind: 'loaded', file, scenario: s.name });
  };

  const watchers: FSWatcher[] = [];
  for (const [dir, names] of folders) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (!name) return;
        const n = name.toString();
        if (!(names.has(n) || (names.has('*') && SCENARIO_FILE.test(n)))) return;
        const file = join(dir, n);
        clearTimeout(timers.get(file));
        timers.set(
          file,
          setTimeout(() => reload(file), debounce),
        );
      });
      w.on('error', (err) => opts.logger.warn({ err, dir }, 'scenario watch stopped for a folder'));
      watchers.push(w);
    } catch (err) {
      opts.logger.warn({ err, dir }, 'cannot watch folder');
    }
  }

  return {
    close() {
      for (const w of watchers) w.close();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}

function hashOf(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
