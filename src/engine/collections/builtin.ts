// `collection: { builtin: users }`: the built-in tenant's data files (scenarios/data/), read once on
// first use and shared read-only by every scenario that names them. driveItems is the whole drive
// tree flattened: the root's children and every folder's children.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Entity } from './store.js';

const DATA = fileURLToPath(new URL('../../../scenarios/data/', import.meta.url));
const cache = new Map<string, Entity[]>();

function filesOf(name: string): string[] {
  if (name === 'driveItems') {
    const dir = `${DATA}drive/`;
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('children.json'))
      .sort((a, b) => (a === 'root-children.json' ? -1 : b === 'root-children.json' ? 1 : a.localeCompare(b)))
      .map((f) => dir + f);
  }
  return [`${DATA}${name}.json`];
}

function read(path: string): Entity[] {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    const list: unknown[] = Array.isArray(v) ? v : Array.isArray(v?.value) ? v.value : [];
    return list.filter((x): x is Entity => x !== null && typeof x === 'object' && !Array.isArray(x));
  } catch {
    return [];
  }
}

export function builtinItems(name: string): Entity[] {
  let items = cache.get(name);
  if (!items) {
    items = filesOf(name).flatMap(read);
    cache.set(name, items);
  }
  return items;
}
