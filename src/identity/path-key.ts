// One normalisation for both sides of the permission map: the map's path templates (at build time,
// scripts/build-permissions.mjs) and request paths (at run time), so the two meet on equal terms.
// Lower case (Graph paths are case-insensitive); `{anything}` → `{}`; a function call keeps its name
// and its parameter names (`range(address={value})` ↔ `range(address='A1:B2')` → `range(address)`);
// OneDrive path addressing (`root:/folder/file.txt:/content`) collapses to `root:/{}:/content`.

/** The segment every key value and template placeholder becomes. */
export const PARAM = '{}';

/** Path → normalised segments (no version prefix, no query). */
export function pathSegments(path: string): string[] {
  let p = path;
  const q = p.indexOf('?');
  if (q !== -1) p = p.slice(0, q);
  p = p.toLowerCase();
  if (p.includes(':/')) {
    // a drive path between two colons (or to the end) is one value, however many segments it spans
    p = p.replace(/:\/[^:]*:/g, ':/{}:').replace(/:\/[^:]*$/, ':/{}');
  }
  const out: string[] = [];
  for (const raw of splitSegments(p)) {
    if (raw === '') continue;
    out.push(segmentKey(raw));
  }
  return out;
}

/** Splits on '/' outside parentheses and quotes (function arguments may hold slashes). */
function splitSegments(p: string): string[] {
  if (!p.includes('(')) return p.split('/');
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === '/' && depth === 0) {
      out.push(p.slice(start, i));
      start = i + 1;
    }
  }
  out.push(p.slice(start));
  return out;
}

function segmentKey(seg: string): string {
  if (seg.startsWith('{') && seg.endsWith('}')) return PARAM;
  if (seg.startsWith('{') && seg.endsWith('}:')) return `${PARAM}:`;
  const open = seg.indexOf('(');
  if (open <= 0 || !seg.endsWith(')')) return seg;
  // name(k1=v1,k2=v2) → name(k1,k2) (sorted); name('key') or name({id}) → name({})
  const name = seg.slice(0, open);
  const args = seg.slice(open + 1, -1).trim();
  if (args === '') return `${name}()`;
  const keys = splitArgs(args).map((a) => {
    const eq = a.indexOf('=');
    return eq === -1 ? PARAM : a.slice(0, eq).trim();
  });
  return `${name}(${keys.sort().join(',')})`;
}

/** Splits function arguments on commas outside quotes. */
function splitArgs(args: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === "'") quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(args.slice(start, i));
      start = i + 1;
    }
  }
  out.push(args.slice(start));
  return out;
}

/** A template's key in the compiled map: its normalised segments joined. */
export function templateKey(template: string): string {
  return `/${pathSegments(template).join('/')}`;
}
