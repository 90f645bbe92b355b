// --tls: a self-signed certificate made at start (selfsigned, native WebCrypto), covering localhost and
// 127.0.0.1/::1; or the user's own --tls-cert/--tls-key. The certificate is its own CA: clients trust
// it by loading GET /__admin/tls/ca.pem.
import { readFileSync } from 'node:fs';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** what /__admin/tls/ca.pem serves */
  ca: string;
}

export async function tlsMaterial(opts: {
  certFile?: string;
  keyFile?: string;
  hosts?: string[];
}): Promise<TlsMaterial> {
  if (opts.certFile && opts.keyFile) {
    const cert = readFileSync(opts.certFile, 'utf8');
    return { cert, key: readFileSync(opts.keyFile, 'utf8'), ca: cert };
  }
  // loaded only when asked for: most runs are plain http, and it is slow to import
  const { default: selfsigned } = await import('selfsigned');
  const dns = ['localhost', ...(opts.hosts ?? []).filter((h) => !/^[0-9.:]+$/.test(h) && h !== 'localhost')];
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 1);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'm365-mock' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dns.map((value) => ({ type: 2, value })),
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  } as Parameters<typeof import('selfsigned').generate>[1]);
  return { key: pems.private, cert: pems.cert, ca: pems.cert };
}
