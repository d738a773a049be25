/**
 * Reads the PLAIN section of a ZPL configuration: the accounts under `security/plain/account`, those of the
 * separate accounts file named by `security/plain/file`, and the verifier limits. Every problem is a
 * {@link SaslConfigError} that names the key; suspicious but usable settings are reported through `warn`.
 *
 * @module
 */

import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ZplError, ZplValueError, loadZplFile, type ZplNode } from "../../runtime/zpl/index.js";
import { SaslConfigError } from "./errors.js";
import { DEFAULT_SCRYPT_PARAMS, hashPassword, parseStoredHash, type StoredHash } from "./scrypt-hash.js";
import { credentialProblem, loginForLog, prepareCredential } from "./text.js";

/** One account that may log in. */
export interface Account {
  /** The login after preparation: what a presented login is looked up by. */
  readonly login: string;
  /** The `group` key, if any (informational; FileMQ passes it to its actions). */
  readonly group?: string;
  readonly hash: StoredHash;
  /** Where it was configured, e.g. `security/plain/account #2` or `accounts.zpl: account #1`. */
  readonly where: string;
}

/** Limits of the verifier as configured. */
export interface PlainLimits {
  /** `security/plain/max_concurrent`: derivations at once. */
  readonly maxConcurrent?: number;
  /** `security/plain/max_queue`: verifications waiting for a slot. */
  readonly maxQueue?: number;
}

/** How {@link loadAccounts} resolves files and reports warnings. */
export interface AccountLoadOptions {
  /** Directory a relative `security/plain/file` is resolved against (default: the working directory). */
  readonly baseDir?: string;
  /** Receives each warning as one sentence. */
  readonly warn: (message: string) => void;
}

const ACCOUNT_KEYS = new Set(["login", "hash", "password", "group"]);

/**
 * All accounts of a configuration, keyed by prepared login. Cleartext `password` entries are accepted for
 * compatibility with the Guide's configurations: each is warned about, hashed, and replaced in `config` by a
 * `hash` entry, so the cleartext no longer exists in the tree (and a tree saved later holds only the hash).
 */
export async function loadAccounts(config: ZplNode, options: AccountLoadOptions): Promise<Map<string, Account>> {
  const accounts = new Map<string, Account>();
  const inline = config.all("security/plain/account");
  for (const [index, node] of inline.entries()) {
    await addAccount(accounts, node, { key: "security/plain/account", where: `security/plain/account #${index + 1}` }, options.warn);
  }
  const file = config.get("security/plain/file");
  if (file !== undefined) {
    const path = resolve(options.baseDir ?? process.cwd(), file);
    const tree = await loadAccountsFile(file, path, options.warn);
    for (const [index, node] of tree.all("account").entries()) {
      await addAccount(accounts, node, { key: "security/plain/file", where: `account #${index + 1} of ${file}` }, options.warn);
    }
    for (const other of tree.children.filter((child) => child.name !== "account")) {
      options.warn(`The accounts file ${file} has a top-level "${other.name}" entry, which is ignored; only "account" entries are read.`);
    }
  }
  if (accounts.size === 0) options.warn("security/plain has no accounts, so every PLAIN login will be refused.");
  return accounts;
}

/** `security/plain/max_concurrent` and `security/plain/max_queue`, checked. */
export function readLimits(config: ZplNode): PlainLimits {
  return {
    maxConcurrent: readBoundedInteger(config, "security/plain/max_concurrent", 1, 64),
    maxQueue: readBoundedInteger(config, "security/plain/max_queue", 0, 100_000),
  };
}

function readBoundedInteger(config: ZplNode, key: string, min: number, max: number): number | undefined {
  let value: number | undefined;
  try {
    value = config.getInteger(key);
  } catch (error) {
    if (error instanceof ZplValueError) throw new SaslConfigError(key, `${key} must be a whole number from ${min} to ${max}, not ${JSON.stringify(error.value)}.`);
    throw error;
  }
  if (value !== undefined && (value < min || value > max)) {
    throw new SaslConfigError(key, `${key} must be a whole number from ${min} to ${max}, not ${value}.`);
  }
  return value;
}

async function loadAccountsFile(file: string, path: string, warn: (message: string) => void): Promise<ZplNode> {
  const key = "security/plain/file";
  if (file === "") throw new SaslConfigError(key, `${key} is empty; give the path of the accounts file.`);
  try {
    const { mode } = await stat(path);
    const access = accessOfOthers(mode);
    if (access !== undefined) {
      warn(`The accounts file ${path} is ${access}; restrict it to its owner (chmod 600 ${path}).`);
    }
    return await loadZplFile(path);
  } catch (error) {
    if (error instanceof ZplError) throw new SaslConfigError(key, `The accounts file named by ${key} is not valid ZPL: ${error.toString()}.`, { cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    throw new SaslConfigError(key, `The accounts file named by ${key} (${path}) cannot be read: ${reason}.`, { cause: error });
  }
}

/** "readable by group and others" and the like, or `undefined` if only the owner has access. */
function accessOfOthers(mode: number): string | undefined {
  const who = [(mode & 0o070) !== 0 ? "group" : "", (mode & 0o007) !== 0 ? "others" : ""].filter(Boolean);
  if (who.length === 0) return undefined;
  const what = (mode & 0o044) !== 0 ? "readable" : "accessible";
  return `${what} by ${who.join(" and ")} (mode ${(mode & 0o777).toString(8).padStart(3, "0")})`;
}

/** Where an account entry was found: the configuration key errors name, and a label for messages. */
interface Origin {
  readonly key: string;
  readonly where: string;
}

async function addAccount(accounts: Map<string, Account>, node: ZplNode, { key, where }: Origin, warn: (message: string) => void): Promise<void> {
  for (const name of ACCOUNT_KEYS) {
    const count = node.children.filter((child) => child.name === name).length;
    if (count > 1) throw new SaslConfigError(key, `${where} has ${count} "${name}" entries; give each account one.`);
  }
  const loginText = node.locate("login")?.value;
  if (loginText === undefined || loginText === null) throw new SaslConfigError(key, `${where} has no login; every account needs "login = <name>".`);
  const loginProblem = credentialProblem(loginText);
  if (loginProblem !== undefined) throw new SaslConfigError(key, `The login of ${where} ${loginProblem}.`);
  const login = prepareCredential(loginText);
  const shown = `${where} (login "${loginForLog(loginText)}")`;
  const existing = accounts.get(login);
  if (existing !== undefined) {
    throw new SaslConfigError(key, `${shown} is the same login as ${existing.where} once both are prepared (Unicode NFKC); logins must be unique.`);
  }
  for (const child of node.children) {
    if (!ACCOUNT_KEYS.has(child.name)) warn(`${shown} has an unknown entry "${child.name}", which is ignored.`);
  }
  const hash = await accountHash(node, key, shown, warn);
  if (hash.N < DEFAULT_SCRYPT_PARAMS.N) {
    warn(`${shown} has a hash with N = ${hash.N}, weaker than the recommended ${DEFAULT_SCRYPT_PARAMS.N}; set its password again.`);
  }
  const group = node.get("group");
  accounts.set(login, { login, hash, where, ...(group ? { group } : {}) });
}

/** The account's hash: parsed from `hash`, or made from a legacy cleartext `password` that is then replaced. */
async function accountHash(node: ZplNode, key: string, shown: string, warn: (message: string) => void): Promise<StoredHash> {
  const hashNode = node.locate("hash");
  const passwordNode = node.locate("password");
  if (hashNode !== undefined && passwordNode !== undefined) {
    throw new SaslConfigError(key, `${shown} has both a hash and a cleartext password; keep only the hash.`);
  }
  if (hashNode !== undefined) {
    const parsed = parseStoredHash(hashNode.value ?? "");
    if (typeof parsed === "string") throw new SaslConfigError(key, `The hash of ${shown} ${parsed}.`);
    return parsed;
  }
  if (passwordNode === undefined) {
    throw new SaslConfigError(key, `${shown} has neither a hash nor a password; add "hash = scrypt$..." (made by filemq passwd).`);
  }
  const problem = credentialProblem(passwordNode.value ?? "");
  if (problem !== undefined) throw new SaslConfigError(key, `The password of ${shown} ${problem}, so it could never be used.`);
  const stored = await hashPassword(passwordNode.value ?? "");
  // The cleartext disappears from the tree; what stays is what the file should have held.
  passwordNode.name = "hash";
  passwordNode.value = stored;
  warn(`${shown} has a cleartext password: it was hashed and removed from the configuration in memory; store a hash instead (filemq passwd).`);
  return parseStoredHash(stored) as StoredHash;
}
