/** Counted nouns in text a person reads: `1 octet`, `2 octets`, `1 entry`, `3 entries`. */

/** `count` followed by the noun, singular for 1 and plural otherwise (`pluralForm`, by default the noun + "s"). */
export function plural(count: number | bigint, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 || count === 1n ? singular : pluralForm}`;
}
