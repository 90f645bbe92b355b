// Build step: the dashboard's static files (hand-written, no bundler) go next to the compiled admin
// routes, which serve them from ../ui/static (src/admin/ui.ts).
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/ui/static/', import.meta.url);
const to = new URL('../dist/ui/static/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
