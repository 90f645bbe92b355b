// The mock's signing key: an RSA key pair made in the background once a scenario declares `identity:`
// (or on first use; a mock without identity never makes one), RS256 JWTs signed with it and verified
// against it, and its public half as a JWKS. The private key never leaves this module: no answer, log
// line or error shows it.
import {
  createHash,
  createSign,
  createVerify,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import type { TokenClaims } from '../engine/auth.js';

export type VerifyResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'algorithm' | 'signature' };

interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  readonly jwk: Record<string, string>;
}

/** Tokens longer than this are not ours (ours are ~1.5 KB): refused before any parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export class SigningKey {
  private pair?: KeyPair;
  private readonly verified = new Map<string, VerifyResult>();

  private preparing = false;

  /**
   * Starts making the key on libuv's thread pool (a scenario with `identity:` was loaded): RSA
   * generation takes 100-400 ms, which would otherwise hold the event loop on the first token.
   */
  prepare(): void {
    if (this.pair || this.preparing) return;
    this.preparing = true;
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => {
      // a token asked for before this finished made its own key synchronously: keep that one
      if (!err && !this.pair) this.pair = pairOf(privateKey, publicKey);
    });
  }

  private get keys(): KeyPair {
    if (!this.pair) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.pair = pairOf(privateKey, publicKey);
    }
    return this.pair;
  }

  /** Whether the key pair exists yet (it is made on the first token issued or checked). */
  get made(): boolean {
    return this.pair !== undefined;
  }

  get kid(): string {
    return this.keys.kid;
  }

  sign(claims: Record<string, unknown>): string {
    const k = this.keys;
    const head = b64({ typ: 'JWT', alg: 'RS256', kid: k.kid });
    const body = b64(claims);
    const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(k.privateKey, 'base64url');
    return `${head}.${body}.${signature}`;
  }

  /** Signature and algorithm only; expiry and audience are the caller's (they change with time and use). */
  verify(token: string): VerifyResult {
    const hit = this.verified.get(token);
    if (hit) return hit;
    const r = this.check(token);
    if (this.verified.size >= 1000) this.verified.clear(); // bounded: a client minting tokens cannot grow it
    this.verified.set(token, r);
    return r;
  }

  private check(token: string): VerifyResult {
    if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'malformed' };
    const [h, p, s] = parts as [string, string, string];
    const header = parseJson(h);
    const claims = parseJson(p);
    if (!header || !claims) return { ok: false, reason: 'malformed' };
    // alg: none, HS256 (the public key used as an HMAC secret) and friends are refused outright
    if (header.alg !== 'RS256') return { ok: false, reason: 'algorithm' };
    if (header.kid !== this.keys.kid || s === '') return { ok: false, reason: 'signature' };
    let good = false;
    try {
      good = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(this.keys.publicKey, s, 'base64url');
    } catch {
      good = false;
    }
    return good ? { ok: true, claims: claims as TokenClaims } : { ok: false, reason: 'signature' };
  }

  /** The public key as Entra publishes it at …/discovery/v2.0/keys. */
  jwks(issuer: string): { keys: Record<string, unknown>[] } {
    const k = this.keys;
    return {
      keys: [
        { kty: 'RSA', use: 'sig', kid: k.kid, x5t: k.kid, n: k.jwk.n, e: k.jwk.e, alg: 'RS256', issuer },
      ],
    };
  }
}

function pairOf(privateKey: KeyObject, publicKey: KeyObject): KeyPair {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  // the key id is the public key's thumbprint (RFC 7638 member order), like Entra's kid/x5t
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url')
    .slice(0, 27);
  return { privateKey, publicKey, kid, jwk };
}

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

function parseJson(part: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
