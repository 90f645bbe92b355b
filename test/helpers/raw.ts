// Raw-socket HTTP for tests that must send what fetch refuses to (garbage, CR/LF, slow writes).
import net from 'node:net';

export interface RawAnswer {
  /** everything the server wrote */
  text: string;
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** true when the server closed the connection */
  closed: boolean;
  ms: number;
}

/**
 * Writes the chunks (a number = pause that many ms) and collects the answer until the server closes
 * the socket or `waitMs` passes.
 */
export function rawRequest(
  port: number,
  chunks: Array<string | Buffer | number>,
  waitMs = 1500,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const start = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(parts).toString('latin1'), closed, Date.now() - start));
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => parts.push(d));
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (typeof c === 'number') await new Promise((r) => setTimeout(r, c));
        else if (!socket.destroyed) socket.write(c);
      }
    });
  });
}

export function parseAnswer(text: string, closed: boolean, ms: number): RawAnswer {
  const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
  const headers: Record<string, string> = {};
  const split = text.indexOf('\r\n\r\n');
  if (m && split !== -1) {
    for (const line of text.slice(m[0].length, split).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
  }
  return {
    text,
    status: m ? Number(m[1]) : undefined,
    headers,
    body: split === -1 ? '' : text.slice(split + 4),
    closed,
    ms,
  };
}

/** A Graph error envelope whose innerError request-id equals the request-id header. */
export function isGraphEnvelope(a: { headers: Record<string, string>; body: string }): boolean {
  try {
    const b = JSON.parse(a.body);
    return (
      typeof b?.error?.code === 'string' &&
      typeof b.error.message === 'string' &&
      typeof a.headers['request-id'] === 'string' &&
      b.error.innerError?.['request-id'] === a.headers['request-id']
    );
  } catch {
    return false;
  }
}
