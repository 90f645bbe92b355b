// loadScenarioText for text that arrives while the mock is serving (admin API, in-process API, --watch):
// the `yaml` parser exhausts memory on flow collections nested a couple of thousand deep (a fatal
// error no try/catch can stop) and can overflow the stack on others, so nesting is checked first
// with a linear scan, and any stack overflow that still happens becomes a located issue. Callers
// serving untrusted text (admin API, runtime loadScenario) also pass maxYamlBytes
// (LIMITS.maxRuntimeYamlBytes): the parser allocates ~1 KB per byte it reads.
import { jsonTooDeep } from '../hardening/limits.js';
import { type LoadResult, loadScenarioText } from './load.js';

/** far deeper than any scenario needs, far below what the parser survives */
export const MAX_FLOW_DEPTH = 256;

export function loadScenarioTextGuarded(
  text: string,
  opts: { file?: string; label?: string; baseDir?: string; seedOverride?: number; maxYamlBytes?: number },
): LoadResult {
  const file = opts.file ?? opts.label ?? '<scenario>';
  const refuse = (message: string): LoadResult => ({
    ok: false,
    issues: [{ file, line: 1, col: 1, message }],
  });
  if (jsonTooDeep(text, MAX_FLOW_DEPTH))
    return refuse(`brackets nest more than ${MAX_FLOW_DEPTH} levels deep`);
  try {
    return loadScenarioText(text, opts);
  } catch (err) {
    if (err instanceof RangeError) return refuse('the document nests too deeply');
    throw err;
  }
}
