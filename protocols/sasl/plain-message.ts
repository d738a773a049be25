/**
 * The PLAIN message of RFC 4616 (`authzid NUL authcid NUL passwd`): the client's encoding, byte-identical to
 * C FileMQ, and the server's strict decoding (rules P2-P6 of our PLAIN rules).
 *
 * @module
 */

import { SaslCredentialError } from "./errors.js";
import { MAX_PART_OCTETS, credentialProblem, decodeStrictUtf8, prepareCredential } from "./text.js";

/** The only mechanism this library implements. */
export const PLAIN = "PLAIN";

/** Longest response accepted: three parts of {@link MAX_PART_OCTETS} and two NULs (rule P2). */
export const MAX_RESPONSE_OCTETS = 3 * MAX_PART_OCTETS + 2;

/** What the server learned from one response. */
export type PlainDecoding =
  | {
      readonly ok: true;
      /** The login after preparation. */
      readonly login: string;
      /** The prepared password in UTF-8; the receiver overwrites it once it is done. */
      readonly password: Buffer;
    }
  | {
      readonly ok: false;
      /** Which rule failed, as the end of a sentence (never any password text). */
      readonly problem: string;
      /** The login the client claimed, for the log, when the response had the right structure. */
      readonly claimedLogin?: string;
    };

const LENIENT_UTF8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Client side: the RFC 4616 response `00 · login · 00 · password` (empty authzid, no trailing NUL), exactly
 * as C FileMQ sends it. Nothing is prepared or checked beyond what would change the message's structure:
 * an empty login or password is encoded as C would, and the server refuses it.
 *
 * @param password - text, or UTF-8 bytes the caller can overwrite afterwards
 * @throws {@link SaslCredentialError} if the login or password contains NUL or an unpaired surrogate
 */
export function plainResponse(login: string, password: string | Uint8Array): Buffer {
  checkEncodable("login", login);
  if (typeof password === "string") checkEncodable("password", password);
  else if (password.includes(0)) throw new SaslCredentialError("password", "the password contains a NUL octet");
  const loginOctets = Buffer.byteLength(login, "utf8");
  const passwordOctets = typeof password === "string" ? Buffer.byteLength(password, "utf8") : password.length;
  // Written straight into the result, so no other buffer ever holds the password.
  const message = Buffer.alloc(2 + loginOctets + passwordOctets);
  message.write(login, 1, "utf8");
  if (typeof password === "string") message.write(password, 2 + loginOctets, "utf8");
  else message.set(password, 2 + loginOctets);
  return message;
}

function checkEncodable(field: "login" | "password", text: string): void {
  if (text.includes("\0")) throw new SaslCredentialError(field, `the ${field} contains a NUL character`);
  if (!text.isWellFormed()) throw new SaslCredentialError(field, `the ${field} is not valid Unicode text`);
}

/**
 * Client side: the mechanism to answer an ORLY with: `PLAIN` if the server offered it (names compare
 * exactly), otherwise `undefined`, and the caller reports "no common mechanism" and closes the session.
 */
export function chooseMechanism(offered: readonly string[]): "PLAIN" | undefined {
  return offered.includes(PLAIN) ? PLAIN : undefined;
}

/**
 * Server side: splits and checks a PLAIN response. Never throws, whatever the bytes.
 * Rules: at most {@link MAX_RESPONSE_OCTETS} octets (P2); exactly two NULs (P3); login and password
 * non-empty, at most 255 octets, strict UTF-8, no control characters (P4); authzid empty or the login
 * itself (P5); login and password prepared (P6).
 */
export function decodePlainResponse(response: Uint8Array): PlainDecoding {
  if (response.length > MAX_RESPONSE_OCTETS) {
    return { ok: false, problem: `the response is longer than ${MAX_RESPONSE_OCTETS} octets` };
  }
  const first = response.indexOf(0);
  const second = first === -1 ? -1 : response.indexOf(0, first + 1);
  if (second === -1 || response.indexOf(0, second + 1) !== -1) {
    return { ok: false, problem: "the response does not hold exactly two NUL octets" };
  }
  const authcidBytes = response.subarray(first + 1, second);
  const claimedLogin = LENIENT_UTF8.decode(authcidBytes);
  const authcid = checkedPart(authcidBytes);
  if (typeof authcid !== "string") return { ok: false, problem: `the login ${authcid.problem}`, claimedLogin };
  const passwd = checkedPart(response.subarray(second + 1));
  if (typeof passwd !== "string") return { ok: false, problem: `the password ${passwd.problem}`, claimedLogin };
  const login = prepareCredential(authcid);
  if (first > 0) {
    const authzid = checkedPart(response.subarray(0, first));
    if (typeof authzid !== "string" || prepareCredential(authzid) !== login) {
      return { ok: false, problem: "the authorization identity differs from the login (proxy authorization is not supported)", claimedLogin };
    }
  }
  return { ok: true, login, password: Buffer.from(prepareCredential(passwd), "utf8") };
}

/** The part as text if rule P4 allows it, otherwise why not. */
function checkedPart(bytes: Uint8Array): string | { readonly problem: string } {
  if (bytes.length > MAX_PART_OCTETS) return { problem: `is longer than ${MAX_PART_OCTETS} octets` };
  const text = decodeStrictUtf8(bytes);
  if (text === undefined) return { problem: "is not valid UTF-8" };
  const problem = credentialProblem(text);
  return problem === undefined ? text : { problem };
}
