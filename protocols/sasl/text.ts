/**
 * The text rules PLAIN applies to logins and passwords: strict UTF-8, the length and character limits of
 * RFC 4616 (rule P4), the preparation applied before every comparison and every hash (rule P6), and the
 * escaping of logins written to logs.
 *
 * @module
 */

/** Longest authzid, authcid or passwd a server must accept, in UTF-8 octets (RFC 4616). */
export const MAX_PART_OCTETS = 255;

/** Longest login written to a log line, in characters. */
export const MAX_LOGGED_LOGIN = 64;

// RFC 3454 table C.1.2, the space characters SASLprep maps to U+0020. NFKC already folds most of them, but
// not U+1680 and U+200B, so the mapping comes first, as in SASLprep.
const NON_ASCII_SPACES = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
const CONTROL = /[\u0000-\u001F\u007F]/;
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Prepares a login or password for comparison: non-ASCII spaces become U+0020, then Unicode NFKC. The same
 * function runs when a password is hashed and when one is verified, so `"ｇｕｅｓｔ"` and `"guest"` are the
 * same login and a password typed with a no-break space matches one stored with a plain space.
 */
export function prepareCredential(text: string): string {
  return text.replace(NON_ASCII_SPACES, " ").normalize("NFKC");
}

/** Decodes strict UTF-8 (no replacement characters); `undefined` if the bytes are not valid UTF-8. */
export function decodeStrictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Why `text` can never be a PLAIN login or password (rule P4), as the end of a sentence, or `undefined` if
 * it can. Never quotes the text, so it is safe for passwords.
 */
export function credentialProblem(text: string): string | undefined {
  if (text === "") return "is empty";
  if (!text.isWellFormed()) return "is not valid Unicode text (it contains an unpaired surrogate)";
  if (Buffer.byteLength(text, "utf8") > MAX_PART_OCTETS) return `is longer than ${MAX_PART_OCTETS} octets in UTF-8`;
  if (CONTROL.test(text)) return "contains a control character (U+0000-U+001F or U+007F)";
  return undefined;
}

/**
 * A login as it may appear in a log line: at most {@link MAX_LOGGED_LOGIN} characters (then `…`), with
 * backslash, C0 and C1 control characters and DEL escaped, so a hostile login cannot forge log lines.
 */
export function loginForLog(login: string): string {
  const characters = Array.from(login);
  const shown = characters.slice(0, MAX_LOGGED_LOGIN).map(escapeCharacter).join("");
  return characters.length > MAX_LOGGED_LOGIN ? `${shown}…` : shown;
}

function escapeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  if (character === "\\") return "\\\\";
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `\\x${code.toString(16).padStart(2, "0")}`;
  // A lone surrogate (only possible in text that did not come from strict UTF-8) is shown, not passed on.
  if (code >= 0xd800 && code <= 0xdfff) return `\\u${code.toString(16)}`;
  return character;
}
