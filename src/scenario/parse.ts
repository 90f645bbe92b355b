// Text → validated scenario object, with every problem located as file:line:col. The `yaml` library
// parses YAML and JSON alike and keeps source ranges; ajv checks the TypeBox schema; this file only
// translates between the two (ajv's JSON pointers → yaml nodes → line/col).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import {
  CST,
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  parseAllDocuments,
  visit,
} from 'yaml';
import { editDistance } from '../text/edit-distance.js';
import type { ScenarioFile } from './schema.js';
import { scenarioValidator } from './validator.js';

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

// verbose (AJV_OPTIONS): errors carry the failing schema and data, so messages can list allowed fields and
// say what was found; precompiled by the build (validator.ts)
const validate = await scenarioValidator();

/**
 * Scenario texts the build already parsed (scripts/write-validator.mjs → dist/scenario/scenario-cache.json):
 * the built-in scenarios, as JSON by the SHA-256 of their YAML text. A hit skips the yaml parser, ~170 ms
 * cold at start-up; the value is validated as always, and a location, if one is ever needed, still comes
 * from the YAML text. Running the sources (tests), there is no cache.
 */
const prebuilt = readPrebuilt();

function readPrebuilt(): Map<string, string> {
  try {
    const raw = readFileSync(new URL('./scenario-cache.json', import.meta.url), 'utf8');
    return new Map(Object.entries(JSON.parse(raw) as Record<string, string>));
  } catch {
    return new Map();
  }
}

/** The key of a scenario text in the build's cache. */
export function scenarioTextKey(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * `maxYamlBytes`: a text longer than this never reaches the yaml parser, which allocates about 1 KB
 * per byte of input (a 126 KiB scenario: ~140 MiB of garbage, ~14 MiB live at once). Set for text
 * that arrives while the mock serves (admin API, in-process API); valid JSON of any size up to
 * maxBytes still loads (JSON.parse), JSON with problems is reported without line numbers.
 */
export function parseScenarioText(text: string, file: string, maxYamlBytes = Infinity): ParseResult {
  if (Buffer.byteLength(text) > LIMITS.maxBytes) {
    return fail(file, 1, 1, `file is larger than ${LIMITS.maxBytes} bytes`);
  }
  if (text.length > maxYamlBytes) return parseLargeJson(text, file, maxYamlBytes);
  // Valid machine-written JSON (a generated 10,000-route scenario) skips the yaml parser, ~50× slower;
  // its source map is built only if the compiler finds something to report. Anything else, or any
  // problem, takes the yaml path, which locates it.
  if (prebuilt.size !== 0) {
    const hit = prebuilt.get(scenarioTextKey(text));
    if (hit !== undefined) {
      const value: unknown = JSON.parse(hit);
      if (validate(value)) return { ok: true, value, locate: locateLater(text, file) };
    }
  }
  const json = plainJson(text);
  if (json !== undefined && validate(json)) return { ok: true, value: json, locate: locateLater(text, file) };
  return parseWithYaml(text, file);
}

/** Text too large for the yaml parser: plain JSON, with its problems at 1:1 and a JSON path. */
function parseLargeJson(text: string, file: string, maxYamlBytes: number): ParseResult {
  const kib = Math.floor(maxYamlBytes / 1024);
  if (text.trimStart()[0] !== '{') {
    return fail(
      file,
      1,
      1,
      `a YAML scenario sent at runtime is limited to ${kib} KiB; send it as JSON or load it from a file`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(
      file,
      1,
      1,
      `not valid JSON (over ${kib} KiB, so not read as YAML): ${(err as Error).message}`,
    );
  }
  if (countKeys(value) !== countKeyTokens(text))
    return fail(file, 1, 1, 'a key is given twice, or is __proto__, constructor or prototype');
  const nowhere: Locate = () => ({ line: 1, col: 1 });
  if (validate(value)) return { ok: true, value, locate: nowhere };
  const issues = explain(validate.errors ?? []).map((e) => ({
    file,
    line: 1,
    col: 1,
    message: describe(e, pointerToPath(e.instancePath)),
  }));
  return { ok: false, issues: dedupe(issues) };
}

/** Locations from the yaml parser, parsed only if the compiler finds something to report. */
function locateLater(text: string, file: string): Locate {
  let located: Locate | undefined;
  return (path, key) => {
    if (!located) {
      const r = parseWithYaml(text, file);
      located = r.ok ? r.locate : () => ({ line: 1, col: 1 });
    }
    return located(path, key);
  };
}

/** A JSON object without duplicate or forbidden keys, else undefined (the yaml path reports why). */
function plainJson(text: string): unknown {
  if (text.trimStart()[0] !== '{') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    // JSON.parse keeps the last of two equal keys without a word: compare the keys it kept with the
    // key tokens in the text
    return countKeys(value) === countKeyTokens(text) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Keys of every object in the value; -1 if one is forbidden. */
function countKeys(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) {
      const c = countKeys(x);
      if (c < 0) return -1;
      n += c;
    }
    return n;
  }
  for (const [k, x] of Object.entries(v)) {
    if (FORBIDDEN_KEYS.has(k)) return -1;
    const c = countKeys(x);
    if (c < 0) return -1;
    n += 1 + c;
  }
  return n;
}

/** Strings followed by `:` in JSON text: its object keys, duplicates included. */
function countKeyTokens(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 34) continue; // "
    for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) {
      if (text.charCodeAt(i) === 92) i++; // backslash escapes the next character
    }
    let j = i + 1;
    while (j < text.length && /\s/.test(text[j]!)) j++;
    if (text.charCodeAt(j) === 58) n++; // :
  }
  return n;
}

function parseWithYaml(text: string, file: string): ParseResult {
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
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const opened = unclosedAt(text, message, e.pos[0]);
    issues.push(
      opened === undefined
        ? issue(e.pos[0], message)
        : issue(opened, `${message} (the one opened here is never closed)`),
    );
  }
  if (issues.length) return { ok: false, issues: issues.sort((a, b) => a.line - b.line || a.col - b.col) };

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

/**
 * yaml reports an unclosed `{`, `[` or quote where the input ends; the person needs the place where
 * it was opened. Finds the last unclosed flow collection or quoted scalar before the error.
 */
function unclosedAt(text: string, message: string, errorOffset: number): number | undefined {
  const flow = /end with a ([}\]])/.exec(message)?.[1];
  const quote = /Missing closing (['"])?quote/.test(message);
  if (!flow && !quote) return undefined;
  let found: number | undefined;
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    CST.visit(token, (item) => {
      for (const n of [item.key, item.value]) {
        if (!n || n.offset > errorOffset) continue;
        if (flow && n.type === 'flow-collection' && !n.end.some((t) => t.source === flow)) found = n.offset;
        if (quote && (n.type === 'double-quoted-scalar' || n.type === 'single-quoted-scalar')) {
          const q = n.source[0]!;
          if (n.source.length < 2 || !n.source.endsWith(q)) found = n.offset;
        }
      }
    });
  }
  return found;
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
  const where = path.length ? showPath(path) : 'scenario';
  const schema = e.parentSchema as { description?: string; properties?: object } | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(e.params.additionalProperty);
      const allowed = Object.keys(schema?.properties ?? {});
      const near = closest(field, allowed);
      return `unknown field '${field}' in ${where}${near ? ` (did you mean '${near}'?)` : ''}; expected one of: ${allowed.join(', ')}`;
    }
    case 'required':
      return `${where}: missing required field '${e.params.missingProperty}'`;
    case 'type': {
      const what = schema?.description ? ` (${schema.description})` : '';
      return `${where}: expected ${article(String(e.params.type))}${what}, got ${shown(e.data)}`;
    }
    case 'minProperties':
    case 'maxProperties':
      return `${where}: give exactly one of: ${Object.keys(schema?.properties ?? {}).join(', ')}`;
    case 'anyOf': {
      const options = ((e.schema as Array<{ const?: unknown; type?: string }>) ?? []).map((s) =>
        s.const !== undefined ? JSON.stringify(s.const) : (s.type ?? 'object'),
      );
      return `${where}: expected one of ${options.join(' | ')}, got ${shown(e.data)}`;
    }
    case 'pattern':
      return `${where}: ${shown(e.data)} is not valid${schema?.description ? `: expected ${schema.description}` : ` (must match ${e.params.pattern})`}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minItems':
    case 'maxItems':
    case 'maxLength':
      return `${where}: ${e.message}, got ${shown(e.data)}`;
    default:
      return `${where}: ${e.message}`;
  }
}

/** routes[0].response.status: how a person would name the place in the file. */
function showPath(path: string[]): string {
  return path.reduce((s, p) => (/^\d+$/.test(p) ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function shown(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${s.length > 60 ? `${s.slice(0, 57)}...` : s}`;
}

/** The allowed name a typo most likely meant (edit distance ≤ 2), for "did you mean". */
function closest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const d = distance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  // more than two apart in length cannot be a typo worth suggesting
  if (Math.abs(a.length - b.length) > 2) return 3;
  return editDistance(a, b);
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
