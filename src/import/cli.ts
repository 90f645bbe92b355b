// `m365-mock import devproxy FILE... --out DIR [--name NAME] [--seed N]`: Dev Proxy mocks/errors/config
// files → one scenario in DIR, validated by the project's loader; one warning line per field that has
// no equivalent (on stderr). Returns the process exit code.
import { parseArgs } from 'node:util';
import { writeScenarios } from '../record/write.js';
import { ImportError, importDevProxy } from './devproxy.js';

export const IMPORT_USAGE = 'm365-mock import devproxy FILE... --out DIR [--name NAME] [--seed N]';

function fail(message: string): number {
  process.stderr.write(`m365-mock: ${message}\nusage: ${IMPORT_USAGE}\n`);
  return 2;
}

export async function runImport(args: string[]): Promise<number> {
  let parsed: {
    values: { out?: string; name?: string; seed?: string; help?: boolean };
    positionals: string[];
  };
  try {
    parsed = parseArgs({
      args,
      options: {
        out: { type: 'string' },
        name: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return fail((err as Error).message.split(/\.\s/)[0] ?? 'invalid arguments');
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`usage: ${IMPORT_USAGE}\n`);
    return 0;
  }
  const [format, ...files] = positionals;
  if (format !== 'devproxy') return fail(`import knows one format, devproxy; got '${format ?? ''}'`);
  if (files.length === 0) return fail('import devproxy needs at least one FILE');
  if (!values.out) return fail('import needs --out DIR');
  if (values.name !== undefined && !/^[A-Za-z0-9_.-]{1,128}$/.test(values.name))
    return fail(`--name must match [A-Za-z0-9_.-]+`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed))
    return fail(`--seed must be a whole number, got '${values.seed}'`);
  let result: ReturnType<typeof importDevProxy>;
  try {
    result = importDevProxy(files, { name: values.name, seed });
  } catch (err) {
    if (err instanceof ImportError) {
      process.stderr.write(`m365-mock: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  const written = writeScenarios(values.out, [result.scenario]);
  for (const i of written.issues) process.stderr.write(`${i}\n`);
  process.stdout.write(
    `m365-mock: imported ${written.routes} routes into ${written.files.join(', ')} (${result.warnings.length} warnings)\n`,
  );
  return written.issues.length ? 1 : 0;
}
