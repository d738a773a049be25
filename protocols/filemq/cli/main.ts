/**
 * The `filemq` command: publish directories, subscribe to them into an inbox, relay between the two, and
 * manage PLAIN accounts files. Each command has its own `--help`; failures are one line on stderr and a
 * non-zero exit status (1: it did not work, 2: the command line is wrong).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CommandFailed, UsageError, type CliIo } from "./common.js";
import { keygenCommand, KEYGEN_USAGE } from "./keygen.js";
import { passwdCommand, PASSWD_USAGE } from "./passwd.js";
import { publishCommand, PUBLISH_USAGE } from "./publish.js";
import { relayCommand, RELAY_USAGE } from "./relay.js";
import { subscribeCommand, SUBSCRIBE_USAGE } from "./subscribe.js";

const USAGE = `Usage: filemq <command> [options]

File publish-subscribe over ZeroMQ (FILEMQ/1, the ZeroMQ Guide's FileMQ).

Commands:
  publish <dir> --bind <endpoint>         serve a directory tree
  subscribe <endpoint> --inbox <dir>      mirror a publisher's tree into an inbox
  relay <upstream> --inbox <dir> --bind <endpoint>
                                          mirror upstream and serve the mirror downstream
  passwd <file> <user>                    set a SASL PLAIN password in an accounts file
  keygen <file>                           write a CURVE key pair (transport encryption)

Run 'filemq <command> --help' for a command's options.
`;

/** A command: its usage text, its options, and what it does with them. */
export interface Command {
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig["options"]>;
  run(values: Readonly<Record<string, string | boolean | string[] | undefined>>, positionals: readonly string[], io: CliIo): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  publish: { usage: PUBLISH_USAGE, ...publishCommand },
  subscribe: { usage: SUBSCRIBE_USAGE, ...subscribeCommand },
  relay: { usage: RELAY_USAGE, ...relayCommand },
  passwd: { usage: PASSWD_USAGE, ...passwdCommand },
  keygen: { usage: KEYGEN_USAGE, ...keygenCommand },
};

/** Runs `filemq` with these arguments; resolves with the exit status. */
export async function runFilemq(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`filemq: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({ args: [...rest], allowPositionals: true, strict: true, options: { ...command.options, help: { type: "boolean", short: "h" } } });
    if (values.help === true) {
      io.stdout.write(command.usage);
      return 0;
    }
    return await command.run(values, positionals, io);
  } catch (error) {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`filemq ${name}: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    io.stderr.write(`filemq ${name}: ${error instanceof CommandFailed ? error.message : error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
