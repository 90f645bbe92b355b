// Raw HTTP/1.1 over a TCP socket: the fuzzer must send what no HTTP client would (garbage request
// lines, bare CR, NUL bytes, lying Content-Length), and read whatever comes back.
import net from 'node:net';

/**
 * Sends `chunks` (a number = pause that many ms) on a fresh connection and collects every byte the
 * server writes until it closes the socket or `timeoutMs` passes. `halfClose` ends our side after
 * the last chunk (a client that stops sending); `abortAfterMs` drops the connection early (a client
 * that gives up mid-request).
 */
export function exchange(port, chunks, { timeoutMs = 3000, halfClose = false, abortAfterMs } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const parts = [];
    let settled = false;
    let error;
    const finish = (how) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (abortTimer) clearTimeout(abortTimer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(parts), how, error });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const abortTimer =
      abortAfterMs === undefined ? undefined : setTimeout(() => finish('aborted'), abortAfterMs);
    socket.on('data', (d) => parts.push(d));
    socket.on('error', (e) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => finish('closed'));
    // the server ended its side (Connection: close): nothing more will come
    socket.on('end', () => finish('closed'));
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (settled || socket.destroyed) return;
        if (typeof c === 'number') await new Promise((r) => setTimeout(r, c));
        else socket.write(c);
      }
      if (halfClose && !socket.destroyed) socket.end();
    });
  });
}

/**
 * Splits what the server wrote into responses (Content-Length, chunked, or read-to-close bodies).
 * `methods` are the request methods in order, so HEAD answers are read without a body.
 */
export function parseResponses(bytes, methods = []) {
  const out = [];
  let at = 0;
  let n = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end === -1) return { responses: out, trailing: bytes.subarray(at) };
    const head = bytes.subarray(at, end).toString('latin1');
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
    if (!m) return { responses: out, trailing: bytes.subarray(at) };
    const status = Number(m[1]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    at = end + 4;
    if (status >= 100 && status < 200) continue; // interim (100 Continue)
    const method = methods[n++] ?? 'GET';
    let body = Buffer.alloc(0);
    if (method === 'HEAD' || status === 204 || status === 304) {
      // no body
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks = [];
      for (;;) {
        const eol = bytes.indexOf('\r\n', at);
        if (eol === -1)
          return { responses: out, trailing: bytes.subarray(at), broken: 'unterminated chunk size' };
        const size = Number.parseInt(bytes.subarray(at, eol).toString('latin1'), 16);
        if (Number.isNaN(size))
          return { responses: out, trailing: bytes.subarray(at), broken: 'bad chunk size' };
        at = eol + 2;
        if (size === 0) {
          const fin = bytes.indexOf('\r\n', at);
          at = fin === -1 ? bytes.length : fin + 2;
          break;
        }
        chunks.push(bytes.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(chunks);
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      body = bytes.subarray(at, at + len);
      if (body.length < len) return { responses: out, trailing: body, broken: 'short body' };
      at += len;
    } else {
      body = bytes.subarray(at);
      at = bytes.length;
    }
    out.push({ status, headers, body: body.toString('utf8'), method });
  }
  return { responses: out, trailing: Buffer.alloc(0) };
}

/** A complete request with Connection: close (the server then closes and the exchange ends fast). */
export function request(method, target, { headers = {}, body, version = 'HTTP/1.1', close = true } = {}) {
  const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  let head = `${method} ${target} ${version}\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (b && !Object.keys(headers).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) {
    head += `Content-Length: ${b.length}\r\n`;
  }
  if (close) head += 'Connection: close\r\n';
  head += '\r\n';
  return b ? Buffer.concat([Buffer.from(head, 'latin1'), b]) : Buffer.from(head, 'latin1');
}
