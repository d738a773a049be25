/**
 * What every `filemq` command shares: its streams, one-line failures, where passwords come from (a file or
 * the environment, never the command line), the log and trace of `--verbose` (secrets redacted by the
 * codec's printer), and waiting for SIGINT or SIGTERM.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createLogger, type ClientSecurity, type Logger, type MessageTracer } from "../../../runtime/engine/index.js";
import type { ZplNode } from "../../../runtime/zpl/tree.js";
import { readCertificate } from "../curve.js";
import { printZpl, type FmqMsg } from "../../../generated/filemq/fmq_msg.js";

/** The process a command runs in, as far as commands see it (tests give their own). */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves on SIGINT or SIGTERM, or when stdout fails (its reader went away), with what happened. */
  readonly interrupted: Promise<string>;
}

/** A mistake in the command line: the command's usage follows the message, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure to report in one line, exit status 1. */
export class CommandFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandFailed";
  }
}

/** The environment variable a password may come from. */
export const PASSWORD_VARIABLE = "FILEMQ_PASSWORD";

/**
 * The password for `--user`: the first line of `--password-file`, or `FILEMQ_PASSWORD`. A password is never
 * taken from the command line, where every user of the machine can read it.
 */
export async function readPassword(file: string | undefined, env: CliIo["env"]): Promise<Buffer> {
  if (file !== undefined) {
    let text: Buffer;
    try {
      text = await readFile(file);
    } catch (error) {
      throw new CommandFailed(`cannot read the password file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const end = text.indexOf(0x0a);
    const line = end < 0 ? text : text.subarray(0, end > 0 && text[end - 1] === 0x0d ? end - 1 : end);
    const password = Buffer.from(line);
    text.fill(0);
    return password;
  }
  const variable = env[PASSWORD_VARIABLE];
  if (variable !== undefined) return Buffer.from(variable, "utf8");
  throw new UsageError(`--user needs a password: --password-file FILE or the ${PASSWORD_VARIABLE} environment variable`);
}

/** The one positional argument a command takes (an endpoint, say); `missing` says what to give. */
export function onePositional(positionals: readonly string[], missing: string): string {
  const [first, ...extra] = positionals;
  if (first === undefined) throw new UsageError(missing);
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
  return first;
}

/** The `--user` and `--password-file` options as credentials, or none without `--user`. */
export async function credentialsOption(values: Readonly<Record<string, unknown>>, env: CliIo["env"]): Promise<{ login: string; password: Buffer } | undefined> {
  const login = values.user;
  const file = values["password-file"];
  if (typeof login !== "string") {
    if (file !== undefined) throw new UsageError("--password-file goes with --user");
    return undefined;
  }
  return { login, password: await readPassword(typeof file === "string" ? file : undefined, env) };
}

/** CURVE for a client from `--curve-server` (the server's public certificate) and `--curve` (its own), or none. */
export async function curveClientOption(values: Readonly<Record<string, unknown>>, logger: Logger): Promise<ClientSecurity | undefined> {
  const server = values["curve-server"];
  const own = values.curve;
  if (typeof server !== "string") {
    if (own !== undefined) throw new UsageError("--curve goes with --curve-server: the server's public certificate");
    return undefined;
  }
  const { publicKey: serverKey } = await readCertificate(server, { secret: false });
  if (typeof own !== "string") return { mechanism: "curve", serverKey };
  const { publicKey, secretKey } = await readCertificate(own, { secret: true, warn: (message) => logger.log("warn", message) });
  return { mechanism: "curve", serverKey, publicKey, ...(secretKey !== undefined ? { secretKey } : {}) };
}

/** Turns CURVE on in a server configuration from `--curve` (its secret certificate) and `--curve-client` (allowed clients). */
export function curveServerOption(config: ZplNode, values: Readonly<Record<string, unknown>>): void {
  const own = values.curve;
  const clients = values["curve-client"];
  if (typeof own !== "string") {
    if (clients !== undefined) throw new UsageError("--curve-client goes with --curve: the server's secret certificate");
    return;
  }
  config.set("security/curve", "1");
  const curve = config.locate("security/curve");
  curve?.set("certificate", resolve(own));
  for (const client of Array.isArray(clients) ? clients : []) curve?.addChild("client", resolve(String(client)));
}

/** The log of a command: warnings and errors on stderr, everything with `--verbose`. */
export function commandLogger(io: CliIo, name: string, verbose: boolean): Logger {
  return createLogger({ name, level: verbose ? "debug" : "warn", write: (line) => io.stderr.write(`${line}\n`) });
}

/** With `--verbose`, every message in and out, printed by the codec with secrets redacted and chunks summed up. */
export function messageTracer(logger: Logger, verbose: boolean): MessageTracer | undefined {
  if (!verbose) return undefined;
  return (direction, message, peer) => {
    const who = peer === undefined ? "" : ` peer ${peer.toString("hex")}`;
    logger.log("debug", `${direction}${who}: ${describeMessage(message as FmqMsg)}`);
  };
}

/** One message for a trace: CHEEZBURGER on one line with its chunk's size, others in ZPL form, redacted. */
export function describeMessage(message: FmqMsg): string {
  if (message.message === "CHEEZBURGER") {
    const { sequence, operation, filename, offset, eof, chunk } = message;
    return `CHEEZBURGER sequence=${sequence} operation=${operation} filename=${JSON.stringify(filename)} offset=${offset} eof=${eof} chunk=<${chunk.length} octets>`;
  }
  return `\n${printZpl(message, { redact: true }).trimEnd()}`;
}

/** Human-readable octets: `512 B`, `1.5 MB`. */
export function formatBytes(octets: number): string {
  if (octets < 1000) return `${octets} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = octets / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}
