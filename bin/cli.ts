/**
 * The shape every `zproto` command has, and what the tools do the way Unix tools do: one usage and option list
 * per command (`zproto help <command>`, `zproto <command> --help`), `--version`, one clear line and exit status
 * 2 for a command line that is wrong, 1 for a failure, and a quiet death when the reader of stdout goes away.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { editDistance } from "../generator/suggest.js";

/** One option a command takes. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** How help shows the option's value: `DIR`, `FILE`. */
  readonly value?: string;
  readonly help: string;
  /** The option may be given several times (`--bind A --bind B`): its value is the list. */
  readonly multiple?: boolean;
}

/** Parsed option values: strings for string options (lists for `multiple` ones), `true` for boolean options that were given. */
export type OptionValues = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/** A command: its help as data, and what it does. */
export interface Command {
  readonly name: string;
  /** What follows the command name on a command line, as the usage line shows it. */
  readonly synopsis: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Paragraphs of help between the usage line and the options. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /**
   * What its operands are (`model file`), whether it takes more than one, and how many it needs at least
   * (`min`, default 1).
   */
  readonly operands: { readonly noun: string; readonly many: boolean; readonly min?: number };
  /** Runs the command; resolves with the exit status. Throws {@link UsageError} for a wrong command line. */
  run(operands: readonly string[], options: OptionValues): number | Promise<number>;
}

/** A program made of commands. */
export interface Program {
  readonly name: string;
  readonly version: string;
  readonly summary: string;
  readonly commands: readonly Command[];
}

/** The command line is wrong: reported in one line, with where to find the usage, and exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const HELP_OPTION: OptionSpec = { type: "boolean", help: "show this help" };

/** Runs the command `argv` names; resolves with the exit status. */
export async function runProgram(program: Program, argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(programHelp(program));
    return 2;
  }
  if (first === "--help" || first === "-h") return print(programHelp(program));
  if (first === "--version") return print(`${program.name} ${program.version}\n`);
  if (first === "help") {
    if (rest.length === 0) return print(programHelp(program));
    const command = program.commands.find((candidate) => candidate.name === rest[0]);
    return command === undefined ? unknownCommand(program, rest[0]) : print(commandHelp(program, command));
  }
  if (first.startsWith("-")) return usageFailure(program, undefined, `unknown option '${first}'`);
  const command = program.commands.find((candidate) => candidate.name === first);
  if (command === undefined) return unknownCommand(program, first);
  try {
    const { operands, options } = parseCommandLine(command, rest);
    if (options.help === true) return print(commandHelp(program, command));
    checkOperands(command, operands);
    return await command.run(operands, options);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(program, command, error.message);
    throw error;
  }
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}

function usageFailure(program: Program, command: Command | undefined, message: string): number {
  const who = command === undefined ? program.name : `${program.name} ${command.name}`;
  const help = command === undefined ? `${program.name} --help` : `${program.name} help ${command.name}`;
  process.stderr.write(`${who}: ${message}\nTry '${help}'.\n`);
  return 2;
}

function unknownCommand(program: Program, name: string): number {
  const near = program.commands.find((command) => editDistance(command.name, name) <= 2);
  return usageFailure(program, undefined, `unknown command '${name}'${near !== undefined ? `; did you mean '${near.name}'?` : ""}`);
}

/**
 * Splits a command's arguments into operands and option values. Every option is checked against the command's
 * own: an unknown one, a string option without its value and a boolean option given a value are usage errors.
 */
function parseCommandLine(command: Command, args: readonly string[]): { operands: string[]; options: OptionValues } {
  const specs: Record<string, OptionSpec> = { ...command.options, help: HELP_OPTION };
  const { values, positionals, tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, {
      type: spec.type, ...(name === "help" ? { short: "h" } : {}), ...(spec.multiple === true ? { multiple: true } : {}),
    }])),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = Object.prototype.hasOwnProperty.call(specs, token.name) ? specs[token.name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown option '${token.rawName}'`);
    const value = token.value;
    if (spec.type === "boolean" && value !== undefined) throw new UsageError(`option ${token.rawName} takes no value`);
    // Without an `=`, a value that looks like another option means the value was left out (`--out --jsonl`).
    const missing = value === undefined || value === "" || (!token.inlineValue && value.startsWith("-") && value !== "-");
    if (spec.type === "string" && missing) throw new UsageError(`option ${token.rawName} needs a value: ${token.rawName} ${spec.value ?? "VALUE"}`);
  }
  return { operands: positionals, options: values };
}

function checkOperands(command: Command, operands: readonly string[]): void {
  const { noun, many, min = 1 } = command.operands;
  if (operands.length < min) throw new UsageError(min === 1 ? `needs a ${noun}` : `needs at least ${min} ${noun}s`);
  if (!many && operands.length > 1) throw new UsageError(`takes one ${noun}; '${operands[1]}' is one too many`);
}

/** The program's help: usage, commands, where to find a command's options. */
export function programHelp(program: Program): string {
  const width = Math.max(...program.commands.map((command) => command.name.length));
  return [
    `Usage: ${program.name} <command> [options]`,
    "",
    program.summary,
    "",
    "Commands:",
    ...program.commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    "",
    `Run '${program.name} help <command>' (or '${program.name} <command> --help') for a command's usage and options;`,
    `'${program.name} --version' prints the version.`,
    "",
  ].join("\n");
}

/** A command's help: usage line, description, options. */
export function commandHelp(program: Program, command: Command): string {
  const options = Object.entries({ ...command.options, help: HELP_OPTION }).map(([name, spec]) => ({
    left: `${name === "help" ? "-h, " : ""}--${name}${spec.value !== undefined ? ` ${spec.value}` : ""}`,
    help: spec.help,
  }));
  const width = Math.max(...options.map((option) => option.left.length));
  return [
    `Usage: ${program.name} ${command.name} ${command.synopsis}`,
    "",
    command.description.trim(),
    "",
    "Options:",
    ...options.map((option) => `  ${option.left.padEnd(width)}  ${option.help}`),
    "",
  ].join("\n");
}

/** The version in the package.json of the package this module belongs to. */
export function packageVersion(moduleUrl: string): string {
  let directory = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as { version?: unknown };
      if (typeof manifest.version === "string") return manifest.version;
    } catch {
      // No package.json here: look further up.
    }
    const parent = dirname(directory);
    if (parent === directory) return "unknown";
    directory = parent;
  }
}

/**
 * When whoever reads stdout goes away (`zproto decode ... | head -1`), end as Unix tools do: killed by SIGPIPE,
 * without a word. Node ignores SIGPIPE and reports EPIPE on the stream instead, so the default action is
 * restored (adding and removing a listener leaves the signal at its default) and the signal raised.
 */
export function exitOnBrokenPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    const ignore = (): void => {};
    process.on("SIGPIPE", ignore);
    process.off("SIGPIPE", ignore);
    process.kill(process.pid, "SIGPIPE");
    // Should the signal not end the process, exit with the status a shell shows for it.
    process.exit(128 + 13);
  });
}
