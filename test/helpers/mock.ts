// Test helper: a real m365-mock on port 0, closed when the test ends; plus small HTTP helpers.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type MockServer, type MockServerOptions, startMockServer } from '../../src/index.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function startMock(t: Teardown, opts: MockServerOptions = {}): Promise<MockServer> {
  const mock = await startMockServer({ port: 0, ...opts });
  t.teardown(() => mock.close());
  return mock;
}

/** Writes files into a fresh temp folder and returns its path: `{ 'a.yaml': '…', 'data/x.json': '…' }`. */
export function tempScenarioDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'm365-mock-test-'));
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const GRAPH_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

export async function getJson(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}
