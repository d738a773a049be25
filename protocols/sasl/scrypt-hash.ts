/**
 * The stored form of PLAIN passwords: `scrypt$N$r$p$<base64 salt>$<base64 key>`, derived with node:crypto
 * from the prepared password, and its constant-time verification.
 *
 * @module
 */

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { SaslConfigError, SaslCredentialError } from "./errors.js";
import { credentialProblem, decodeStrictUtf8, prepareCredential } from "./text.js";

/** Cost parameters of a new hash. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two (default 16384). */
  readonly N: number;
  /** Block size (default 8). */
  readonly r: number;
  /** Parallelisation (default 1). */
  readonly p: number;
}

/** A parsed stored hash. */
export interface StoredHash extends ScryptParams {
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** The parameters of new hashes unless told otherwise: N = 16384, r = 8, p = 1. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 16384, r: 8, p: 1 });

/** Octets of random salt in a new hash. */
export const SALT_OCTETS = 16;
/** Octets of derived key in a new hash. */
export const KEY_OCTETS = 32;

const PREFIX = "scrypt";
// Bounds on what a stored hash may ask for, so that one line of configuration cannot make every login
// attempt take gigabytes or minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 256 * 1024 * 1024;
const DECIMAL = /^[1-9][0-9]{0,9}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALGORITHM_NAME = /^[a-z0-9-]{1,16}$/;

/**
 * Hashes a password for the accounts file or `hash` key: prepares it (NFKC, non-ASCII spaces to U+0020),
 * draws a 16-octet salt and derives a 32-octet scrypt key.
 *
 * @param password - text, or UTF-8 bytes that the caller may overwrite afterwards
 * @throws {@link SaslCredentialError} if PLAIN could never carry the password (empty, over 255 octets,
 *   control characters, invalid UTF-8); the message never contains the password
 * @throws {@link SaslConfigError} if `params` are out of bounds
 */
export async function hashPassword(password: string | Uint8Array, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const problem = paramsProblem(params);
  if (problem !== undefined) throw new SaslConfigError("hash", `The scrypt parameters are not usable: ${problem}.`);
  const prepared = preparedPassword(password);
  if (typeof prepared === "string") throw new SaslCredentialError("password", `The password ${prepared}.`);
  const salt = randomBytes(SALT_OCTETS);
  try {
    const key = await deriveKey(prepared, { ...params, salt }, KEY_OCTETS);
    return formatStoredHash({ N: params.N, r: params.r, p: params.p, salt, key });
  } finally {
    prepared.fill(0);
  }
}

/**
 * Whether `password` matches a stored hash, compared in constant time. A password PLAIN could never carry
 * does not match anything.
 * @throws {@link SaslConfigError} (key `hash`) if `stored` is not a hash this library can read
 */
export async function verifyPassword(password: string | Uint8Array, stored: string): Promise<boolean> {
  const hash = parseStoredHash(stored);
  if (typeof hash === "string") throw new SaslConfigError("hash", `The stored hash ${hash}.`);
  const prepared = preparedPassword(password);
  if (typeof prepared === "string") return false;
  try {
    return await matchesHash(prepared, hash);
  } finally {
    prepared.fill(0);
  }
}

/**
 * Derives the key of a prepared password with the hash's parameters and salt and compares it with the
 * stored key using `crypto.timingSafeEqual`. The derived key is overwritten afterwards.
 */
export async function matchesHash(preparedPassword: Uint8Array, hash: StoredHash): Promise<boolean> {
  const derived = await deriveKey(preparedPassword, hash, hash.key.length);
  try {
    return timingSafeEqual(derived, hash.key);
  } finally {
    derived.fill(0);
  }
}

/** The stored form `scrypt$N$r$p$<salt>$<key>` with standard, padded base64. */
export function formatStoredHash(hash: StoredHash): string {
  return [PREFIX, hash.N, hash.r, hash.p, hash.salt.toString("base64"), hash.key.toString("base64")].join("$");
}

/**
 * Reads a stored hash, or says why it cannot (the end of a sentence that never quotes the value, since a
 * cleartext password put under `hash` by mistake must not reach a log).
 */
export function parseStoredHash(stored: string): StoredHash | string {
  const parts = stored.split("$");
  if (parts[0] !== PREFIX) {
    const named = parts.length > 1 && ALGORITHM_NAME.test(parts[0]) ? ` "${parts[0]}$"` : "";
    return `has an unknown algorithm prefix${named}; the supported form is scrypt$N$r$p$<base64 salt>$<base64 key>`;
  }
  if (parts.length !== 6) return `has ${parts.length} "$"-separated fields instead of 6 (scrypt$N$r$p$<base64 salt>$<base64 key>)`;
  const [, nText, rText, pText, saltText, keyText] = parts;
  if (![nText, rText, pText].every((text) => DECIMAL.test(text))) return "has an N, r or p that is not a positive decimal integer";
  const params: ScryptParams = { N: Number(nText), r: Number(rText), p: Number(pText) };
  const problem = paramsProblem(params);
  if (problem !== undefined) return `has unusable scrypt parameters: ${problem}`;
  if (!BASE64.test(saltText) || !BASE64.test(keyText)) return "has a salt or key that is not standard base64";
  const salt = Buffer.from(saltText, "base64");
  const key = Buffer.from(keyText, "base64");
  if (salt.length < 8 || salt.length > 64) return `has a salt of ${salt.length} octets; 8 to 64 are accepted`;
  if (key.length < 16 || key.length > 64) return `has a key of ${key.length} octets; 16 to 64 are accepted`;
  return { ...params, salt, key };
}

/** Why scrypt parameters are refused, or `undefined`. */
function paramsProblem({ N, r, p }: ScryptParams): string | undefined {
  if (!Number.isSafeInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return `N must be a power of two from 2 to ${MAX_N}`;
  if (!Number.isSafeInteger(r) || r < 1 || r > MAX_R) return `r must be from 1 to ${MAX_R}`;
  if (!Number.isSafeInteger(p) || p < 1 || p > MAX_P) return `p must be from 1 to ${MAX_P}`;
  if (scryptMemory({ N, r, p }) > MAX_MEMORY) return `N and r together need more than ${MAX_MEMORY / (1024 * 1024)} MiB`;
  return undefined;
}

/** What OpenSSL's scrypt allocates: 128·r·(N + p + 2) octets. */
function scryptMemory({ N, r, p }: ScryptParams): number {
  return 128 * r * (N + p + 2);
}

/** The prepared password as UTF-8 bytes (overwrite after use), or why PLAIN could never carry it. */
function preparedPassword(password: string | Uint8Array): Buffer | string {
  const text = typeof password === "string" ? password : decodeStrictUtf8(password);
  if (text === undefined) return "is not valid UTF-8";
  const problem = credentialProblem(text);
  return problem ?? Buffer.from(prepareCredential(text), "utf8");
}

function deriveKey(password: Uint8Array, params: ScryptParams & { readonly salt: Buffer }, keyOctets: number): Promise<Buffer> {
  const options = { N: params.N, r: params.r, p: params.p, maxmem: scryptMemory(params) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, params.salt, keyOctets, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * A hash no password matches (random salt and key), with the given parameters: verifying a login that does
 * not exist against it costs what verifying a real one costs, so timing does not tell the two apart.
 */
export function dummyHash(params: ScryptParams): StoredHash {
  return { N: params.N, r: params.r, p: params.p, salt: randomBytes(SALT_OCTETS), key: randomBytes(KEY_OCTETS) };
}
