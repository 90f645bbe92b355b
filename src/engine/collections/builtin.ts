// `collection: { builtin: users }`: the built-in tenant's data files (scenarios/data/*.json), read
// once on first use and shared read-only by every scenario that names them.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Entity } from './store.js';

const DATA = fileURLToPath(new URL('../../../scenarios/data/', import.meta.url));
const FILES: Record<string, string[]> = {
  users: ['users.json'],
  groups: ['groups.json'],
  messages: ['messages.json'],
  driveItems: ['driveItems.json', 'drive-items.json', 'driveitems.json'],
};
const cache = new Map<string, Entity[]>();

export function builtinItems(name: string): Entity[] {
  let items = cache.get(name);
  if (items) return items;
  items = [];
  for (const f of FILES[name] ?? []) {
    const p = DATA + f;
    if (!existsSync(p)) continue;
    try {
      const v = JSON.parse(readFileSync(p, 'utf8'));
      const list = Array.isArray(v) ? v : Array.isArray(v?.value) ? v.value : [];
      items = list.filter((x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x));
    } catch {
      items = [];
    }
    break;
  }
  cache.set(name, items!);
  return items!;
}
