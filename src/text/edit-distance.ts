// Levenshtein distance: the near-miss hints of the journal ("did you mean /v1.0/users?") and of the
// scenario validator ("did you mean `retryAfter`?") both rank candidates by it.

/** Single-character inserts, deletes and substitutions that turn `a` into `b` (two-row dynamic programme). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
