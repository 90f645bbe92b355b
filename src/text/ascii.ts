// Whether a string is plain ASCII: such text has the same bytes in latin1 and UTF-8, so the wire may
// send it as latin1 (one copy) — used when compiling envelopes and constant header blocks.

const NON_ASCII = /[\u0080-\uffff]/;

export function isAsciiText(s: string): boolean {
  return !NON_ASCII.test(s);
}
