// The server's resident memory, read from /proc/<pid>/status (Linux): VmRSS now, VmHWM the peak since
// start (or since resetPeak). Elsewhere both read as null and the fuzz prints "n/a".
import { readFileSync, writeFileSync } from 'node:fs';

/** { rss, hwm } in bytes, or nulls when /proc is not there (not Linux, the process is gone). */
export function readRss(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1');
    return { rss: field(text, 'VmRSS'), hwm: field(text, 'VmHWM') };
  } catch {
    return { rss: null, hwm: null };
  }
}

function field(text, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** Resets VmHWM to the current RSS (clear_refs 5, Linux ≥ 4.0); false where that is not allowed. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export const mib = (n) => (n === null || n === undefined ? 'n/a' : `${(n / 1024 / 1024).toFixed(1)} MiB`);
