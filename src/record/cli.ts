// `m365-mock record --upstream URL --out DIR [--port N] [--host H] [--tls] [--redact PATH]…`: runs the
// recorder until SIGTERM/SIGINT, then writes what it recorded. Returns the process exit code.
import { parseArgs } from 'node:util';
import { MAX_FILE_REF_BYTES } from '../scenario/compile.js';
import { startRecorder, UpstreamUrlError } from './recorder.js';

export const RECORD_USAGE =
  'm365-mock record --upstream URL --out DIR [--port N] [--host H] [--tls] [--redact JSON.PATH]... [--body-limit BYTES] [--replay-origin URL]';

const OPTIONS = {
  upstream: { type: 'string' },
  out: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  tls: { type: 'boolean' },
  redact: { type: 'string', multiple: true },
  'body-limit': { type: 'string' },
  'replay-origin': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function fail(message: string): number {
  process.stderr.write(`m365-mock: ${message}\nusage: ${RECORD_USAGE}\n`);
  return 2;
}

export async function runRecord(args: string[]): Promise<number> {
  let values: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: false; strict: true }>
  >['values'];
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (err) {
    return fail((err as Error).message.split(/\.\s/)[0] ?? 'invalid arguments');
  }
  if (values.help) {
    process.stdout.write(`usage: ${RECORD_USAGE}\n`);
    return 0;
  }
  if (!values.upstream) return fail('record needs --upstream URL');
  if (!values.out) return fail('record needs --out DIR');
  const port = values.port === undefined ? 4365 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return fail(`--port must be 0-65535, got '${values.port}'`);
  const bodyLimit = values['body-limit'] === undefined ? undefined : Number(values['body-limit']);
  if (
    bodyLimit !== undefined &&
    (!Number.isInteger(bodyLimit) || bodyLimit < 0 || bodyLimit > MAX_FILE_REF_BYTES)
  )
    return fail(`--body-limit must be 0-${MAX_FILE_REF_BYTES} bytes, got '${values['body-limit']}'`);
  const host = values.host ?? '127.0.0.1';
  let tls: { key: string; cert: string; ca: string } | undefined;
  if (values.tls) {
    const { tlsMaterial } = await import('../tls.js');
    tls = await tlsMaterial({ hosts: [host] });
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  try {
    recorder = await startRecorder({
      upstream: values.upstream,
      out: values.out,
      port,
      host,
      tls,
      redact: values.redact,
      bodyLimit,
      replayOrigin: values['replay-origin'],
      log,
    });
  } catch (err) {
    if (err instanceof UpstreamUrlError) return fail(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`m365-mock: port ${port} on ${host} is already in use\n`);
      return 3;
    }
    process.stderr.write(`m365-mock: cannot start the recorder: ${e.message}\n`);
    return 1;
  }
  process.stdout.write(`m365-mock recording on ${recorder.url} → ${values.upstream} (out: ${values.out})\n`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      recorder.close().then(
        (r) => {
          process.stdout.write(
            `m365-mock: recorded ${recorder.count()} calls into ${r.files.join(', ') || 'no file'}\n`,
          );
          resolve(r.issues.length ? 1 : 0);
        },
        (err: Error) => {
          process.stderr.write(`m365-mock: error while writing the recording: ${err.message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
