// Text → validated scenario object, with every problem located as file:line:col. The `yaml` library
// parses YAML and JSON alike and keeps source ranges; ajv checks the TypeBox schema; this file only
// translates between the two (ajv's JSON pointers → yaml nodes → line/col).
import { Ajv, type ErrorObject } from 'ajv';
import {
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
} from 'yaml';
import { Scenario, type ScenarioFile } from './schema.js';

export interface ScenarioIssue {
  file: string;
  line: number;
  col: number;
  message: string;
}

export const formatIssue = (i: ScenarioIssue): string => `${i.file}:${i.line}:${i.col}: ${i.message}`;

/** Finds where a value lives in the source, for errors found after schema validation (compile step). */
export type Locate = (path: readonly (string | number)[], key?: boolean) => { line: number; col: number };

export type ParseResult =
  | { ok: true; value: ScenarioFile; locate: Locate }
  | { ok: false; issues: ScenarioIssue[] };

export const LIMITS = {
  /** a scenario file or admin body larger than this is refused before parsing */
  maxBytes: 16 * 1024 * 1024,
  /** YAML alias expansions (billion-laughs guard) */
  maxAliasCount: 1000,
};

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const validate = ajv.compile<ScenarioFile>(Scenario);

export function parseScenarioText(text: string, file: string): ParseResult {
  if (Buffer.byteLength(text) > LIMITS.maxBytes) {
    return fail(file, 1, 1, `file is larger than ${LIMITS.maxBytes} bytes`);
  }
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const at = (offset: number) => lc.linePos(Math.max(0, Math.min(offset, text.length)));
  const issue = (offset: number, message: string): ScenarioIssue => ({ file, ...at(offset), message });

  if (list.length === 0) return fail(file, 1, 1, 'empty file: expected a scenario mapping with `routes`');
  if (list.length > 1) {
    return {
      ok: false,
      issues: [issue(list[1]!.range[0], 'one scenario per file: found a second YAML document')],
    };
  }
  const doc = list[0]!;
  const issues: ScenarioIssue[] = [];
  for (const e of [...doc.errors, ...doc.warnings.filter((w) => w.code === 'DUPLICATE_KEY')]) {
    issues.push(issue(e.pos[0], e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')));
  }
  if (issues.length) return { ok: false, issues };

  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && FORBIDDEN_KEYS.has(String(pair.key.value))) {
        issues.push(issue(pair.key.range?.[0] ?? 0, `key '${String(pair.key.value)}' is not allowed`));
      }
    },
  });
  if (issues.length) return { ok: false, issues };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: LIMITS.maxAliasCount });
  } catch (err) {
    return fail(file, 1, 1, `cannot read the document: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, issues: [issue(doc.contents?.range?.[0] ?? 0, 'expected a mapping with `routes`')] };
  }

  const locate = locator(doc, at);
  if (!validate(value)) {
    for (const e of explain(validate.errors ?? [])) {
      const path = pointerToPath(e.instancePath);
      const extra =
        e.keyword === 'additionalProperties' ? (e.params.additionalProperty as string) : undefined;
      const pos = extra !== undefined ? locate([...path, extra], true) : locate(path);
      issues.push({ file, ...pos, message: describe(e, path) });
    }
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, issues: dedupe(issues) };
  }
  return { ok: true, value, locate };
}

function fail(file: string, line: number, col: number, message: string): ParseResult {
  return { ok: false, issues: [{ file, line, col, message }] };
}

function locator(doc: Document, at: (offset: number) => { line: number; col: number }): Locate {
  return (path, key = false) => {
    // Walk as deep as the path exists; an error about a missing member points at its parent.
    let node: unknown = doc.contents;
    let offset = (doc.contents as { range?: number[] } | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && key && isNode(pair.key)) {
          offset = pair.key.range?.[0] ?? offset;
          break;
        }
        node = pair.value;
        offset =
          (isNode(pair.value) ? pair.value.range?.[0] : undefined) ??
          (pair.key as { range?: number[] }).range?.[0] ??
          offset;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (!isNode(item)) break;
        node = item;
        offset = item.range?.[0] ?? offset;
      } else break;
    }
    return at(offset);
  };
}

function pointerToPath(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * ajv reports every failed branch of a union. Keep what helps a person: for each failed anyOf, the
 * errors of the branch that got furthest into the value, or else one "expected one of" line.
 */
function explain(errors: ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const inBranch = (e: ErrorObject, a: ErrorObject) => e !== a && e.schemaPath.startsWith(`${a.schemaPath}/`);
  const drop = new Set<ErrorObject>();
  const add: ErrorObject[] = [];
  for (const a of anyOfs) {
    const branchErrors = errors.filter((e) => inBranch(e, a));
    for (const e of branchErrors) drop.add(e);
    const deeper = branchErrors.filter(
      (e) =>
        e.instancePath.length > a.instancePath.length ||
        e.keyword === 'additionalProperties' ||
        e.keyword === 'required',
    );
    if (deeper.length && anyOfs.every((other) => other === a || !inBranch(a, other))) {
      // errors of the branch whose own errors reach deepest
      const byBranch = new Map<string, ErrorObject[]>();
      for (const e of deeper) {
        const branch = e.schemaPath.slice(a.schemaPath.length + 1).split('/')[0]!;
        byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
      }
      const best = [...byBranch.values()].sort((x, y) => depth(y) - depth(x))[0]!;
      add.push(...best.filter((e) => e.keyword !== 'anyOf'));
      drop.add(a);
    }
  }
  return [...errors.filter((e) => !drop.has(e)), ...add].filter(
    (e) => e.keyword !== 'anyOf' || !anyOfs.some((o) => o !== e && inBranch(e, o)),
  );
}

const depth = (es: ErrorObject[]) => Math.max(...es.map((e) => e.instancePath.split('/').length));

function describe(e: ErrorObject, path: string[]): string {
  const where = path.length ? path.join('.') : 'scenario';
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      return `unknown field '${e.params.additionalProperty}' in ${where} (expected one of: ${allowed.join(', ')})`;
    }
    case 'required':
      return `${where}: missing required field '${e.params.missingProperty}'`;
    case 'anyOf': {
      const options = ((e.schema as Array<{ const?: unknown; type?: string }>) ?? []).map((s) =>
        s.const !== undefined ? JSON.stringify(s.const) : (s.type ?? 'object'),
      );
      return `${where}: expected one of ${options.join(' | ')}`;
    }
    case 'pattern':
      return `${where}: ${e.message}${(e.parentSchema as { description?: string })?.description ? ` (${(e.parentSchema as { description?: string }).description})` : ''}`;
    default:
      return `${where}: ${e.message}`;
  }
}

function dedupe(issues: ScenarioIssue[]): ScenarioIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = formatIssue(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
