#!/usr/bin/env node
/**
 * The `filemq` command: FileMQ publisher, subscriber and relay (the commands are in protocols/filemq/cli), on
 * the commands' shared framework (bin/cli.ts): help per command, `--version`, one line and status 2 for a
 * wrong command line, one line and status 1 for a failure. Unlike the other tools, a reader of stdout that
 * goes away stops a command the way SIGTERM does, not by SIGPIPE: a subscriber must remove its temporary file
 * and say goodbye.
 */
import { UsageError as FilemqUsageError, type CliIo, type FilemqCommand } from "../protocols/filemq/cli/common.js";
import { keygenCommand } from "../protocols/filemq/cli/keygen.js";
import { passwdCommand } from "../protocols/filemq/cli/passwd.js";
import { publishCommand } from "../protocols/filemq/cli/publish.js";
import { relayCommand } from "../protocols/filemq/cli/relay.js";
import { subscribeCommand } from "../protocols/filemq/cli/subscribe.js";
import { packageVersion, runProgram, UsageError, type Command } from "./cli.js";

const interrupted = new Promise<string>((resolve) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  // A reader that went away (`filemq subscribe --json | head -1`) ends a command cleanly, as a signal does;
  // unhandled, the write error would end the process before a subscriber could clean up.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "stdout error"));
});

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, interrupted };

/** A command run in this process: its failures said in one line, `filemq <command>: why`. */
function inThisProcess(command: FilemqCommand): Command {
  return {
    ...command,
    async run(operands, options) {
      try {
        return await command.run(operands, options, io);
      } catch (error) {
        if (error instanceof FilemqUsageError) throw new UsageError(error.message);
        io.stderr.write(`filemq ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
        return 1;
      }
    },
  };
}

runProgram({
  name: "filemq",
  version: packageVersion(import.meta.url),
  summary: "File publish-subscribe over ZeroMQ (FILEMQ/1, the ZeroMQ Guide's FileMQ).",
  commands: [publishCommand, subscribeCommand, relayCommand, passwdCommand, keygenCommand].map(inThisProcess),
}, process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
    // Whatever a library left running (a socket's last linger, a timer) must not keep a finished command alive.
    setTimeout(() => process.exit(status), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`filemq: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
