// Every code block in README.md and docs/ that can run, runs; every relative link resolves.
//   ```yaml            a whole scenario file: loaded by the project's own loader (file:line:col on failure;
//                      bodyFile/itemsFile references are not resolved: their files are the reader's)
//   ```yaml fragment   a snippet: parsed as YAML only
//   ```sh / ```bash    each line starting with `curl` is sent to one mock serving the built-in scenarios,
//                      http://localhost:4365 replaced by its URL; a trailing `# → NNN` asserts the status
//   anything else      (text, json, ts, …) is not run
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { loadScenarioTextGuarded } from '../src/scenario/guarded-load.js';
import { formatIssue } from '../src/scenario/parse.js';
import { startMock } from './helpers/mock.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');

function markdownFiles(): string[] {
  const out = [join(ROOT, 'README.md')];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) out.push(join(dir, e.name));
    }
  };
  walk(join(ROOT, 'docs'));
  return out;
}

interface Block {
  file: string;
  /** 1-based line of the block's first content line */
  line: number;
  info: string;
  text: string;
}

/** fenced blocks, indented ones (inside list items) too */
function blocks(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    out.push({ file, line: i + 2, info: open[2]!.trim(), text: body.join('\n') });
    i = j;
  }
  return out;
}

const files = markdownFiles();
const all = files.flatMap(blocks);
const where = (b: Block, offset = 0) => `${relative(ROOT, b.file)}:${b.line + offset}`;

t.test('yaml blocks are valid scenarios; fragments are valid YAML', async (t) => {
  const scenarios = all.filter((b) => b.info === 'yaml');
  const fragments = all.filter((b) => b.info === 'yaml fragment');
  t.ok(scenarios.length >= 2, `${scenarios.length} whole scenarios in the docs`);
  for (const b of scenarios) {
    const r = loadScenarioTextGuarded(b.text, { label: where(b) });
    // a docs example may name a data file (bodyFile) that lives beside the reader's scenario, not here
    const issues = r.ok
      ? []
      : r.issues
          .filter((i) => !i.message.startsWith('file references'))
          .map((i) => formatIssue({ ...i, line: i.line + b.line - 1, file: relative(ROOT, b.file) }));
    t.same(issues, [], `${where(b)}: a whole, valid scenario (use \`\`\`yaml fragment for a snippet)`);
  }
  for (const b of fragments) {
    t.doesNotThrow(() => parse(b.text), `${where(b)}: valid YAML`);
  }
});

/** curl lines of sh/bash blocks, continuation lines joined, with the line they start on */
function curlLines(): Array<{ at: string; cmd: string; status?: number }> {
  const out: Array<{ at: string; cmd: string; status?: number }> = [];
  for (const b of all.filter((x) => x.info === 'sh' || x.info === 'bash')) {
    const lines = b.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!.trim();
      const start = i;
      while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
      if (!line.startsWith('curl ')) continue;
      const m = /\s+#\s*→\s*(\d{3})\b.*$/.exec(line);
      const comment = line.search(/\s+#\s/);
      const cmd = (comment === -1 ? line : line.slice(0, comment)).trim();
      out.push({ at: where(b, start), cmd, status: m ? Number(m[1]) : undefined });
    }
  }
  return out;
}

const hasCurl = await run('curl', ['--version']).then(
  () => true,
  () => false,
);

t.test(
  'curl lines answer (and answer the status they say)',
  { skip: hasCurl ? false : 'curl is not installed: the docs curl lines were not run' },
  async (t) => {
    const curls = curlLines();
    t.ok(curls.length >= 40, `${curls.length} curl lines in the docs`);
    const mock = await startMock(t);
    for (const c of curls) {
      t.ok(
        c.cmd.includes('http://localhost:4365'),
        `${c.at}: talks to http://localhost:4365 (else use a text block)`,
      );
      // $(…) may hold a pipe (a token built inline); outside it, one plain command
      const outside = c.cmd.replace(/\$\([^)]*\)/g, '');
      t.notMatch(
        outside,
        /[|;<>]|&&/,
        `${c.at}: one plain curl command (pipes, redirects and ; belong in a text block)`,
      );
      const cmd = `${c.cmd.replaceAll('http://localhost:4365', mock.url)} -s -o /dev/null -w '%{http_code}' --max-time 20`;
      const r = await run('bash', ['-c', cmd], { timeout: 30_000 }).catch((e: { stdout?: string }) => ({
        stdout: e.stdout ?? '',
      }));
      const status = Number(r.stdout.trim().slice(-3));
      t.ok(status >= 100 && status < 600, `${c.at}: an HTTP answer (${status || 'none'})`);
      if (c.status !== undefined) t.equal(status, c.status, `${c.at}: ${c.cmd.slice(0, 80)}`);
    }
  },
);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces → '-' */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    const h = fence ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!h) continue;
    const base = h[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

t.test('every relative link and #anchor resolves', async (t) => {
  let checked = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1]!;
      if (/^[a-z]+:/i.test(href)) continue;
      checked++;
      const [path, anchor] = href.split('#');
      const target = path ? resolve(dirname(file), path) : file;
      t.ok(existsSync(target), `${relative(ROOT, file)}: link ${href} → ${relative(ROOT, target)} exists`);
      if (anchor && target.endsWith('.md') && existsSync(target)) {
        t.ok(
          anchorsOf(target).has(anchor),
          `${relative(ROOT, file)}: #${anchor} is a heading of ${relative(ROOT, target)}`,
        );
      }
    }
  }
  t.ok(checked >= 20, `${checked} links checked`);
});

t.test('the README stays short and keeps the two commands', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  t.ok(readme.split('\n').length <= 220, 'README.md is at most ~200 lines');
  t.match(readme, /npm ci && npm start/);
  t.match(readme, /npm ci && npm test/);
});
