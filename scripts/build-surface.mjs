// Build step: compiles Microsoft's Graph v1.0 $metadata (reference/graph-v1.0.csdl, CSDL XML, 3.4 MB)
// into dist/surface/catalogue.json, the compact model the server's surface resolver and entity
// generator read (src/surface/catalogue.ts documents the shape), and copies the CSDL next to it for
// GET /v1.0/$metadata. The server never parses XML: fast-xml-parser is a dev dependency.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';

const SRC = new URL('../reference/graph-v1.0.csdl', import.meta.url);
const OUT = new URL('../dist/surface/', import.meta.url);

const LISTS = new Set([
  'Schema',
  'EntityType',
  'ComplexType',
  'EnumType',
  'Member',
  'Property',
  'NavigationProperty',
  'Action',
  'Function',
  'Parameter',
  'EntitySet',
  'Singleton',
  'NavigationPropertyBinding',
  'Annotation',
  'Annotations',
]);
const xml = readFileSync(SRC, 'utf8');
const doc = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => LISTS.has(name),
}).parse(xml);
const schemas = doc['edmx:Edmx']['edmx:DataServices'].Schema;

// aliases (graph → microsoft.graph, self → microsoft.graph.security, …) to full names
const alias = new Map();
for (const s of schemas) if (s.Alias) alias.set(s.Alias, s.Namespace);
function full(name) {
  const dot = name.lastIndexOf('.');
  if (dot === -1) return name;
  const ns = name.slice(0, dot);
  return `${alias.get(ns) ?? ns}.${name.slice(dot + 1)}`;
}
/** 'Collection(graph.x)' → '*microsoft.graph.x'; 'graph.x' → 'microsoft.graph.x'; Edm types stay. */
function typeRef(t) {
  const m = /^Collection\((.*)\)$/.exec(t);
  return m ? `*${full(m[1])}` : full(t);
}

const entities = {};
const complex = {};
const enums = {};
const roots = {};
const ops = {};

for (const s of schemas) {
  const ns = s.Namespace;
  for (const e of s.EnumType ?? []) enums[`${ns}.${e.Name}`] = (e.Member ?? []).map((m) => m.Name);
  for (const c of s.ComplexType ?? []) {
    const props = {};
    for (const p of c.Property ?? []) props[p.Name] = typeRef(p.Type);
    const navs = {};
    for (const n of c.NavigationProperty ?? []) navs[n.Name] = [typeRef(n.Type), 0];
    const flags = (c.Abstract === 'true' ? 1 : 0) | (c.OpenType === 'true' ? 2 : 0);
    complex[`${ns}.${c.Name}`] = [c.BaseType ? full(c.BaseType) : null, flags, props, navs];
  }
  for (const e of s.EntityType ?? []) {
    const props = {};
    for (const p of e.Property ?? []) props[p.Name] = typeRef(p.Type);
    const navs = {};
    for (const n of e.NavigationProperty ?? [])
      navs[n.Name] = [typeRef(n.Type), n.ContainsTarget === 'true' ? 1 : 0];
    const flags =
      (e.Abstract === 'true' ? 1 : 0) | (e.OpenType === 'true' ? 2 : 0) | (e.HasStream === 'true' ? 4 : 0);
    entities[`${ns}.${e.Name}`] = [e.BaseType ? full(e.BaseType) : null, flags, props, navs];
  }
  for (const kind of ['Action', 'Function']) {
    for (const op of s[kind] ?? []) {
      if (op.IsBound !== 'true') continue;
      const params = op.Parameter ?? [];
      const binding = typeRef(params[0].Type);
      ops[binding] ??= {};
      const byName = ops[binding];
      const ret = op.ReturnType ? typeRef(op.ReturnType.Type) : null;
      const names = params.slice(1).map((p) => p.Name);
      const prev = byName[op.Name];
      // overloads (same name, same binding): one entry, parameters merged
      byName[op.Name] = prev
        ? [prev[0], prev[1] ?? ret, [...new Set([...prev[2], ...names])]]
        : [kind === 'Action' ? 'a' : 'f', ret, names];
    }
  }
  const container = s.EntityContainer;
  if (container) {
    for (const es of container.EntitySet ?? []) roots[es.Name] = [full(es.EntityType), 1];
    for (const sg of container.Singleton ?? []) roots[sg.Name] = [full(sg.Type), 0];
  }
}

mkdirSync(OUT, { recursive: true });
writeFileSync(new URL('catalogue.json', OUT), JSON.stringify({ v: 1, entities, complex, enums, roots, ops }));
copyFileSync(SRC, new URL('graph-v1.0.csdl', OUT));
console.log(
  `surface: ${Object.keys(entities).length} entity types, ${Object.keys(complex).length} complex, ` +
    `${Object.keys(enums).length} enums, ${Object.keys(roots).length} roots, ` +
    `${Object.values(ops).reduce((n, o) => n + Object.keys(o).length, 0)} bound operations`,
);
