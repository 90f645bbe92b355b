// Opaque paging and delta tokens: numbers packed into base64url with a checksum, so a client that
// edits or invents one gets a clean 400 (or a 410 for a stale delta) instead of a wrong page.
import { hashString } from '../random.js';

export type TokenKind = 's' | 'd';

export function encodeToken(kind: TokenKind, fields: readonly number[]): string {
  const body = `${kind}.${fields.join('.')}`;
  return Buffer.from(`${body}.${hashString(`m365:${body}`).toString(36)}`).toString('base64url');
}

/** The numbers, or undefined if the token is not one we issued (wrong kind, edited, garbage). */
export function decodeToken(kind: TokenKind, token: string, arity: number): number[] | undefined {
  if (token.length > 256 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const parts = text.split('.');
  if (parts.length !== arity + 2 || parts[0] !== kind) return undefined;
  const sum = parts.pop()!;
  if (hashString(`m365:${parts.join('.')}`).toString(36) !== sum) return undefined;
  const nums = parts.slice(1).map(Number);
  return nums.every((n) => Number.isSafeInteger(n) && n >= 0) ? nums : undefined;
}
