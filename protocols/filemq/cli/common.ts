/**
 * What every `filemq` command shares: its shape (the project's command shape, bin/cli.ts, plus the process
 * it runs in), its streams, one-line failures, where passwords come from (a file or the environment, never
 * the command line), the log and trace of `--verbose` (secrets redacted by the codec's printer), and waiting
 * for SIGINT or SIGTERM.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command, OptionSpec, OptionValues } from "../../../bin/cli.js";
import { createLogger, type ClientSecurity, type LogFields, type Logger, type LogLevel, type MessageTracer } from "../../../runtime/engine/index.js";
import type { ZplNode } from "../../../runtime/zpl/tree.js";
import { readCertificate } from "../curve.js";
import { pathProblem } from "../paths.js";
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

/**
 * A `filemq` command: its help as data and what it does, as bin/cli.ts runs commands, given the process it
 * runs in. It resolves with the exit status, throws {@link UsageError} for a wrong command line and
 * {@link CommandFailed} (or any error) for a failure to report in one line.
 */
export interface FilemqCommand extends Omit<Command, "run"> {
  run(operands: readonly string[], options: OptionValues, io: CliIo): Promise<number>;
}

/** Options several commands take. */
export const USER: OptionSpec = {
  type: "string", value: "LOGIN", help: "log in with SASL PLAIN; the password is the first line of --password-file, or the FILEMQ_PASSWORD environment variable (never an argument)",
};
export const PASSWORD_FILE: OptionSpec = { type: "string", value: "FILE", help: "the file holding the password for --user" };
export const HEARTBEAT: OptionSpec = { type: "string", value: "SECONDS", help: "HUGZ after this much silence from the publisher; three mean it is gone (default 1)" };
export const JSON_OUTPUT: OptionSpec = { type: "boolean", help: "one JSON object per event on stdout" };
export const VERBOSE: OptionSpec = { type: "boolean", help: "log states, events and every message on stderr (passwords redacted)" };
export const CONFIG: OptionSpec = {
  type: "string", value: "FILE", help: "server configuration (ZPL, the Guide's keys: server, publish, bind, security; see docs/filemq.md)",
};
export const CURVE_CLIENT: OptionSpec = {
  type: "string", value: "PUB", multiple: true, help: "with --curve, let in only clients with these public certificates (repeatable)",
};

/** A mistake in the command line: one line, a pointer to the command's help, exit status 2. */
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

/** The values of a repeatable option, if it was given. */
export function listOption(values: OptionValues, name: string): readonly string[] | undefined {
  const value = values[name];
  return typeof value === "object" ? value : undefined;
}

/**
 * The virtual paths of an option (`--path`, repeatable, or `--alias`), each checked as a subscription's path
 * is: one that is not a virtual path is a mistake in the command line.
 */
export function virtualPathsOption(values: OptionValues, name: string): readonly string[] | undefined {
  const value = values[name];
  const paths = typeof value === "string" ? [value] : listOption(values, name);
  for (const path of paths ?? []) {
    const problem = pathProblem(path, "subscription");
    if (problem !== undefined) throw new UsageError(`--${name} ${JSON.stringify(path)} is not a virtual path: it ${problem}`);
  }
  return paths;
}

/** The `--user` and `--password-file` options as credentials, or none without `--user`. */
export async function credentialsOption(values: OptionValues, env: CliIo["env"]): Promise<{ login: string; password: Buffer } | undefined> {
  const login = values.user;
  const file = values["password-file"];
  if (typeof login !== "string") {
    if (file !== undefined) throw new UsageError("--password-file goes with --user");
    return undefined;
  }
  return { login, password: await readPassword(typeof file === "string" ? file : undefined, env) };
}

/** CURVE for a client from `--curve-server` (the server's public certificate) and `--curve` (its own), or none. */
export async function curveClientOption(values: OptionValues, logger: Logger): Promise<ClientSecurity | undefined> {
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
export function curveServerOption(config: ZplNode, values: OptionValues): void {
  const own = values.curve;
  const clients = values["curve-client"];
  if (typeof own !== "string") {
    if (clients !== undefined) throw new UsageError("--curve-client goes with --curve: the server's secret certificate");
    return;
  }
  config.set("security/curve", "1");
  const curve = config.locate("security/curve");
  curve?.set("certificate", resolve(own));
  for (const client of listOption(values, "curve-client") ?? []) curve?.addChild("client", resolve(client));
}

/** The log of a command: warnings and errors on stderr, everything with `--verbose`. */
export function commandLogger(io: CliIo, name: string, verbose: boolean): Logger {
  return createLogger({ name, level: verbose ? "debug" : "warn", write: (line) => io.stderr.write(`${line}\n`) });
}

/**
 * The log of a command that reports connection failures itself (the subscriber's `connection-failed`
 * event), less the engine's own error record of each: the engine logs a failure and tells the subscriber in
 * the same turn, so error records wait for the end of the turn (a microtask), and those whose message is a
 * failure reported meanwhile are left out. (The engine logs the failure as `errorText(error)`, which is the
 * event's reason.)
 */
export class ReportedFailures implements Logger {
  private readonly reported = new Set<string>();
  private readonly held: [LogLevel, string, LogFields | undefined][] = [];

  constructor(private readonly inner: Logger) {}

  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (level !== "error") {
      this.inner.log(level, message, fields);
      return;
    }
    this.held.push([level, message, fields]);
    if (this.held.length === 1) queueMicrotask(() => this.release());
  }

  /** The command reports this failure itself. */
  report(reason: string): void {
    this.reported.add(reason);
  }

  private release(): void {
    for (const [level, message, fields] of this.held.splice(0)) if (!this.reported.has(message)) this.inner.log(level, message, fields);
  }
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
