// glibc's malloc_trim(0), called at the end of an idle-compaction series (idle-compaction.ts), never on
// the request path. After a hostile burst V8's heap comes back but glibc's main arena keeps its free
// chunks (30–37 MiB after the fuzz with glibc's defaults); only malloc_trim returns them. The addon
// (src/native/malloc.c, dist/native/malloc.node) is built by scripts/build-native.mjs where a C
// compiler and node's headers exist (Linux/glibc); elsewhere there is none and this is a no-op.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

interface MallocAddon {
  trim(): boolean;
  mallopt(param: number, value: number): boolean;
}

export interface MallocTrimStats {
  /** the addon was found and loaded */
  active: boolean;
  /** malloc_trim calls so far */
  trims: number;
  /** what the last call answered: true when memory went back to the system; null before the first */
  lastReleased: boolean | null;
}

const stats: MallocTrimStats = { active: false, trims: 0, lastReleased: null };
let addon: MallocAddon | null | undefined;

function load(): MallocAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const require = createRequire(import.meta.url);
  // dist/hardening → dist/native; from src/ (tsx, the tests) the built one in dist/
  for (const rel of ['../native/malloc.node', '../../dist/native/malloc.node']) {
    const file = new URL(rel, import.meta.url);
    if (!existsSync(file)) continue;
    try {
      addon = require(file.pathname) as MallocAddon;
      break;
    } catch {
      // another platform's build, or a broken one: run without
    }
  }
  stats.active = addon !== null;
  return addon;
}

/** Hands glibc's free memory back (malloc_trim(0)); false when nothing was released or no addon. */
export function mallocTrim(): boolean {
  const a = load();
  if (!a) return false;
  stats.trims++;
  stats.lastReleased = a.trim();
  return stats.lastReleased;
}

/** Whether the trim is available, and what it did so far. */
export function mallocTrimStats(): MallocTrimStats {
  load();
  return { ...stats };
}
