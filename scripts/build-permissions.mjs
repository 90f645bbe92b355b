// Build step: compiles Microsoft Graph's permission map (reference/graph-permissions.json, 3 MB, the
// kibali format: permission → schemes → path sets of methods and `{id}` templates) into
// dist/identity/permissions.json, the compact lookup src/identity/permission-map.ts reads:
// normalised template → method → [delegated, application] permission indexes, least-privileged first.
// Templates are normalised by the same code that normalises request paths (dist/identity/path-key.js).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { templateKey } from '../dist/identity/path-key.js';

const SRC = new URL('../reference/graph-permissions.json', import.meta.url);
const OUT = new URL('../dist/identity/', import.meta.url);

const { permissions } = JSON.parse(readFileSync(SRC, 'utf8'));
const names = Object.keys(permissions).sort();
const index = new Map(names.map((n, i) => [n, i]));

// key → method → { d: Map<idx, rank>, a: Map<idx, rank> }; the template as Microsoft writes it, for reports
const paths = new Map();
const templates = new Map();
let entries = 0;
// how sure a `least=` mark is for one method (see ordered)
const STRONG = 2;
const WEAK = 1;

for (const [name, p] of Object.entries(permissions)) {
  const i = index.get(name);
  for (const set of p.pathSets ?? []) {
    const delegated = set.schemeKeys.includes('DelegatedWork');
    const application = set.schemeKeys.includes('Application');
    if (!delegated && !application) continue; // personal-account-only grants: the mock's tokens are work accounts
    for (const [template, flags] of Object.entries(set.paths)) {
      entries++;
      const key = templateKey(template);
      if (!templates.has(key)) templates.set(key, template.split('?')[0]);
      const least = /(?:^|;)least=([^;]*)/.exec(flags)?.[1]?.split(',') ?? [];
      let byMethod = paths.get(key);
      if (!byMethod) {
        byMethod = new Map();
        paths.set(key, byMethod);
      }
      for (const method of set.methods) {
        let slot = byMethod.get(method);
        if (!slot) {
          slot = { d: new Map(), a: new Map() };
          byMethod.set(method, slot);
        }
        // a `least=` mark on a set of several methods holds for one of them, not necessarily this one
        const mark = set.methods.length === 1 ? STRONG : WEAK;
        if (delegated) add(slot.d, i, least.includes('DelegatedWork') ? mark : 0, p.schemes.DelegatedWork);
        if (application) add(slot.a, i, least.includes('Application') ? mark : 0, p.schemes.Application);
      }
    }
  }
}

function add(slot, i, mark, scheme) {
  const level = scheme?.privilegeLevel ?? 50;
  const prev = slot.get(i);
  if (!prev) slot.set(i, { mark, level });
  else slot.set(i, { mark: Math.max(prev.mark, mark), level: Math.min(prev.level, level) });
}

/**
 * Least-privileged first: the map's `least=` mark (a weak one, from a multi-method set, only when no
 * single-method set marks another permission), then the scheme's privilege level, then the name.
 */
function ordered(slot) {
  const strong = [...slot.values()].some((v) => v.mark === STRONG);
  const rank = (v) => (v.mark === STRONG || (v.mark === WEAK && !strong) ? 0 : 100) + v.level;
  return [...slot.entries()]
    .sort((x, y) => rank(x[1]) - rank(y[1]) || (names[x[0]] < names[y[0]] ? -1 : 1))
    .map(([i]) => i);
}

const out = { names, templates: {}, paths: {} };
for (const [key, byMethod] of [...paths.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
  out.templates[key] = templates.get(key);
  const m = {};
  for (const [method, slot] of byMethod) m[method] = [ordered(slot.d), ordered(slot.a)];
  out.paths[key] = m;
}
mkdirSync(OUT, { recursive: true });
const text = JSON.stringify(out);
writeFileSync(new URL('permissions.json', OUT), text);
// the names alone, for checking scenarios at load without reading the whole map
writeFileSync(new URL('permission-names.json', OUT), JSON.stringify(names));
console.log(
  `permission map: ${names.length} permissions, ${entries} path entries → ${paths.size} templates (${Math.round(text.length / 1024)} KB)`,
);
