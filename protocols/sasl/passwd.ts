/**
 * `filemq passwd <file> <user>`: asks for a password (twice, without echo, on a terminal; one line from a
 * pipe otherwise), hashes it, and adds or replaces the user's account in a ZPL accounts file, written
 * atomically and readable by its owner only. The password is never printed, logged or kept in a string
 * longer than hashing needs.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { chmod, chown, open, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ZplError, ZplNode, loadZplFile, writeZpl } from "../../runtime/zpl/index.js";
import { PasswdAbortedError, SaslConfigError, SaslCredentialError } from "./errors.js";
import { PasswordLineReader, type PasswordSource } from "./password-input.js";
import { hashPassword, type ScryptParams } from "./scrypt-hash.js";
import { credentialProblem, loginForLog, prepareCredential } from "./text.js";

/** What {@link runPasswd} needs. */
export interface PasswdOptions {
  /** The accounts file (ZPL, top-level `account` entries); created with mode 0600 if missing. */
  readonly file: string;
  /** The login to add or whose password to replace. */
  readonly user: string;
  /** Where the password comes from: a terminal (prompted twice, no echo) or any other stream (first line). */
  readonly input: PasswordSource;
  /** Prompts and the closing summary; never the password. */
  readonly output: NodeJS.WritableStream;
  /** scrypt parameters of the new hash (default N = 16384, r = 8, p = 1). */
  readonly params?: ScryptParams;
}

/** Mode of a newly created accounts file. */
export const ACCOUNTS_FILE_MODE = 0o600;

/**
 * Sets a user's password in an accounts file, as `filemq passwd <file> <user>` does.
 *
 * On a terminal (`input.isTTY`) it prompts `Password for <user>:` and `Retype password:` with echo off (raw
 * mode); otherwise it reads the first line of `input`. The account is added, or its hash replaced (a legacy
 * cleartext `password` entry is dropped); comments and other accounts are kept. The file is replaced
 * atomically; a new one gets mode 0600, an existing one keeps its mode and owner (with a warning on
 * `output` if group or others can read it).
 *
 * @throws {@link SaslCredentialError} if the login or password can never be used with PLAIN
 * @throws {@link PasswdAbortedError} if input ends or is interrupted, or the two entries differ
 * @throws {@link SaslConfigError} if the existing file is not a valid accounts file
 */
export async function runPasswd(options: PasswdOptions): Promise<void> {
  const { file, user, input, output } = options;
  const userProblem = credentialProblem(user);
  if (userProblem !== undefined) throw new SaslCredentialError("login", `The login ${userProblem}.`);
  const password = await readNewPassword(input, output, user);
  let stored: string;
  try {
    stored = await hashPassword(password, options.params);
  } finally {
    password.fill(0);
  }
  const { action, path, warning } = await storeAccount(file, user, stored);
  if (warning !== undefined) output.write(`warning: ${warning}\n`);
  const shown = loginForLog(user);
  output.write(action === "added" ? `added account "${shown}" to ${path}\n` : `changed the password of "${shown}" in ${path}\n`);
}

async function readNewPassword(input: PasswordSource, output: NodeJS.WritableStream, user: string): Promise<Buffer> {
  const terminal = input.isTTY === true;
  if (terminal && typeof input.setRawMode !== "function") {
    throw new PasswdAbortedError("the input is a terminal whose echo cannot be turned off; pipe the password in instead");
  }
  const reader = new PasswordLineReader(input, terminal);
  try {
    if (!terminal) return await reader.nextLine();
    input.setRawMode?.(true);
    const first = await prompt(reader, output, `Password for ${loginForLog(user)}: `);
    const second = await prompt(reader, output, "Retype password: ").catch((error: unknown) => {
      first.fill(0);
      throw error;
    });
    const same = first.equals(second);
    second.fill(0);
    if (!same) {
      first.fill(0);
      throw new PasswdAbortedError("the two passwords differ; nothing was changed");
    }
    return first;
  } finally {
    if (terminal) input.setRawMode?.(false);
    reader.close();
  }
}

async function prompt(reader: PasswordLineReader, output: NodeJS.WritableStream, text: string): Promise<Buffer> {
  output.write(text);
  try {
    return await reader.nextLine();
  } finally {
    // Enter is not echoed in raw mode, so the line break is written here.
    output.write("\n");
  }
}

/** The accounts file after the change, and what was done. */
interface StoreResult {
  readonly action: "added" | "updated";
  readonly path: string;
  readonly warning?: string;
}

async function storeAccount(file: string, user: string, stored: string): Promise<StoreResult> {
  const existing = await readAccountsFile(file);
  const root = existing?.root ?? ZplNode.createRoot();
  const action = setAccountHash(root, user, stored, file);
  const path = existing?.path ?? file;
  await replaceFile(path, writeZpl(root), existing?.stats);
  const mode = existing?.stats.mode ?? ACCOUNTS_FILE_MODE;
  // Reported as the user named it; `path` differs only where a symbolic link was followed.
  const warning = (mode & 0o077) !== 0 ? `${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 ${file}` : undefined;
  return { action, path: file, ...(warning ? { warning } : {}) };
}

interface ExistingFile {
  /** The real path (a symbolic link is followed, so its target is what gets replaced). */
  readonly path: string;
  readonly root: ZplNode;
  readonly stats: { readonly mode: number; readonly uid: number; readonly gid: number };
}

async function readAccountsFile(file: string): Promise<ExistingFile | undefined> {
  let path: string;
  try {
    path = await realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const stats = await stat(path);
    return { path, root: await loadZplFile(path), stats };
  } catch (error) {
    if (error instanceof ZplError) {
      throw new SaslConfigError("security/plain/file", `${file} is not a valid accounts file: ${error.toString()}.`, { cause: error });
    }
    throw error;
  }
}

/** Adds the account or replaces its hash; the login is matched after preparation, as the server does. */
function setAccountHash(root: ZplNode, user: string, stored: string, file: string): "added" | "updated" {
  const login = prepareCredential(user);
  const matches = root.all("account").filter((account) => {
    const existing = account.get("login");
    return existing !== undefined && prepareCredential(existing) === login;
  });
  if (matches.length > 1) {
    throw new SaslConfigError("security/plain/file", `${file} has ${matches.length} accounts with the login "${loginForLog(user)}"; remove all but one by hand first.`);
  }
  const account = matches[0];
  if (account === undefined) {
    const created = root.addChild("account");
    created.addChild("login", user);
    created.addChild("hash", stored);
    return "added";
  }
  account.children = account.children.filter((child) => child.name !== "password");
  const hash = account.locate("hash");
  if (hash === undefined) account.addChild("hash", stored);
  else hash.value = stored;
  return "updated";
}

/** Writes a sibling temporary file, flushes it, gives it the old file's mode and owner, and renames it over. */
async function replaceFile(path: string, text: string, previous: ExistingFile["stats"] | undefined): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", ACCOUNTS_FILE_MODE);
  try {
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Only root may give a file away; anyone else keeps their own ownership, which is the file they edit.
    if (previous !== undefined) await chown(temporary, previous.uid, previous.gid).catch(() => undefined);
    await chmod(temporary, previous === undefined ? ACCOUNTS_FILE_MODE : previous.mode & 0o777);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
