/** Counts in messages a person reads: `1 octet`, `2 octets`, `0 frames`. */

/** `count` followed by the noun, plural unless the count is exactly one. */
export function counted(count: number | bigint, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 || count === 1n ? singular : plural}`;
}
