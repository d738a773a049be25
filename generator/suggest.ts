/**
 * Near-miss names: which known name a misspelt one probably meant ("gte" → "get"), for "did you mean"
 * hints in diagnostics.
 */

/**
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours as one edit
 * (optimal string alignment), so that `gte` is one edit from `get`.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: columns }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * Whether `written` looks like a misspelling of `known`. Names of 6 characters or more may be two edits
 * apart. Shorter ones must be the same length and one letter changed or two swapped (`gte`, `get`): one
 * letter more or less in a short name is too often another word (`stay`, `stray`). Names under 3
 * characters are too short to judge.
 */
export function isNearMiss(written: string, known: string): boolean {
  const shorter = Math.min(written.length, known.length);
  if (written === known || shorter < 3) return false;
  if (shorter >= 6) return editDistance(written, known) <= 2;
  return written.length === known.length && editDistance(written, known) === 1;
}

/** The candidates `written` is a near miss of, closest first (ties in the candidates' order). */
export function nearMisses<T>(written: string, candidates: readonly T[], nameOf: (candidate: T) => string): T[] {
  return candidates
    .filter((candidate) => isNearMiss(written, nameOf(candidate)))
    .map((candidate, index) => ({ candidate, index, distance: editDistance(written, nameOf(candidate)) }))
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .map((entry) => entry.candidate);
}
