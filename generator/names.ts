/**
 * Name normalisation (docs/models.md, "Names"). Model names may contain spaces, hyphens and other punctuation;
 * every derived identifier comes from here so that all outputs agree.
 */

/** The words of a name: runs of letters and digits. */
export function words(name: string): string[] {
  return name.split(/[^A-Za-z0-9]+/).filter((word) => word.length > 0);
}

/** `"OHAI-OK"` → `OHAI_OK`: message names, constants. */
export function upperSnake(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, "_").toUpperCase();
}

/** `"public key"` → `public_key`: field, state, event and action names. */
export function lowerSnake(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, "_").toLowerCase();
}

/** `"tell the user hello too"` → `tellTheUserHelloToo`. */
export function camelCase(name: string): string {
  const parts = words(name).map((word) => word.toLowerCase());
  const joined = parts.map((word, i) => (i === 0 ? word : word[0].toUpperCase() + word.slice(1))).join("");
  return /^[0-9]/.test(joined) ? `_${joined}` : joined;
}

/** `"OHAI OK"` → `OhaiOk`: type names. */
export function pascalCase(name: string): string {
  const camel = camelCase(name);
  return camel.startsWith("_") ? camel : camel[0].toUpperCase() + camel.slice(1);
}

/** `"OHAI OK"` → `OHAI-OK`: ABNF rule names. */
export function abnfName(name: string): string {
  return words(name).map((word) => word.toUpperCase()).join("-");
}

/** The key that decides whether two spellings denote the same item: case, spaces and punctuation ignored. */
export function matchKey(name: string): string {
  return lowerSnake(name);
}

const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await").split(" "),
);

/** Whether `name` cannot be used as a plain identifier. */
export function isReservedWord(name: string): boolean {
  return RESERVED.has(name);
}
