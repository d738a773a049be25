/**
 * `filemq subscribe`: mirrors a publisher into an inbox until stopped, or with `--once` until the inbox
 * holds the publisher's whole tree.
 */
import type { OptionValues } from "../../../bin/cli.js";
import { plural } from "../../../runtime/wire/plural.js";
import { subscribe, type SubscriberEvent } from "../client.js";
import {
  commandLogger, credentialsOption, curveClientOption, HEARTBEAT, JSON_OUTPUT, messageTracer, PASSWORD_FILE, ReportedFailures, USER, UsageError, VERBOSE, virtualPathsOption,
  type FilemqCommand,
} from "./common.js";
import { reportMode, subscriberReport } from "./report.js";

/** What ends a subscribe command: an exit status and, for failures, the line saying why. */
interface Ending {
  readonly status: number;
  readonly message?: string;
}

export const subscribeCommand: FilemqCommand = {
  name: "subscribe",
  synopsis: "ENDPOINT --inbox DIR [--path PATH]... [--user LOGIN --password-file FILE] [--once] [options]",
  summary: "mirror a publisher's tree into an inbox",
  description: `
Mirrors what the FileMQ publisher at ENDPOINT (e.g. tcp://127.0.0.1:5670) serves into an inbox directory
and keeps it in sync. A file is written under a hidden temporary name and renamed when complete, so a
reader never sees part of one; deletes are applied; after a restart only what changed is transferred
again (the inbox keeps digests in .cache).

Caught up: FILEMQ/1 has no message that ends a resync. When nothing has arrived for the quiet time, no file
is half received and credit is outstanding (so the publisher is free to send), the subscriber sends HUGZ.
The publisher answers messages in order, so a HUGZ-OK with no file data before it means it had nothing
more queued: the inbox holds everything published under the paths. This works with any FILEMQ/1 publisher.

Exit status: 0 when caught up (--once) or stopped by SIGINT/SIGTERM (no temporary file is left);
1 when access is denied, the endpoint is not one, the publisher cannot be reached or refuses the CURVE
handshake (--once), a file could not be written into the inbox (--once; disk full, say), or something
fails; 2 for a bad command line. A failure is one line on stderr.`,
  options: {
    inbox: { type: "string", value: "DIR", help: "where files go (created if missing)" },
    path: { type: "string", value: "PATH", multiple: true, help: "virtual path to subscribe to, repeatable (default /: everything)" },
    user: USER,
    "password-file": PASSWORD_FILE,
    "curve-server": { type: "string", value: "PUB", help: "encrypt with CURVE; the server's public certificate (filemq keygen)" },
    curve: { type: "string", value: "CERT", help: "with --curve-server, this client's own secret certificate (for servers that let in only listed clients)" },
    once: { type: "boolean", help: "exit 0 as soon as the inbox holds the publisher's whole tree" },
    timeout: { type: "string", value: "SECONDS", help: "with --once: give up when the publisher does not answer within this time (default 10)" },
    quiet: { type: "string", value: "MS", help: "quiet time before checking whether the inbox caught up (default 500)" },
    heartbeat: HEARTBEAT,
    "no-fsync": {
      type: "boolean",
      help: "rename files into place without flushing them to disk first (faster; a crash of the machine may then leave a renamed file with missing data)",
    },
    json: JSON_OUTPUT,
    verbose: VERBOSE,
  },
  operands: { noun: "publisher endpoint", many: false },

  async run(operands, values, io) {
    const [endpoint] = operands;
    const inbox = values.inbox;
    if (typeof inbox !== "string") throw new UsageError("--inbox is required");
    const once = values.once === true;
    const timeoutMs = seconds(values.timeout, "--timeout", 10) * 1000;
    const heartbeat = seconds(values.heartbeat, "--heartbeat", 1) * 1000;
    const quiet = whole(values.quiet, "--quiet", 500);
    const paths = virtualPathsOption(values, "path") ?? ["/"];
    const credentials = await credentialsOption(values, io.env);
    const verbose = values.verbose === true;
    const log = commandLogger(io, "filemq subscribe", verbose);
    // A connection failure is the command's own line (an event, or with --once its last word), not also
    // the engine's error record; --verbose shows everything.
    const failures = verbose ? undefined : new ReportedFailures(log);
    const logger = failures ?? log;
    const security = await curveClientOption(values, logger);
    const mode = reportMode(io, values.json === true);
    const report = subscriberReport(io, mode);

    let end: (ending: Ending) => void = () => undefined;
    const ended = new Promise<Ending>((resolve) => (end = resolve));
    let connected = false;
    /** Files the inbox could not write: with --once, the mirror is then incomplete. */
    const failed = new Set<string>();
    const onEvent = (event: SubscriberEvent): void => {
      if (event.type === "connection-failed") failures?.report(event.reason);
      // What ends the command is said in its last line, on stderr; in JSON it is an event as well.
      const ending = event.type === "denied" || (event.type === "connection-failed" && once);
      if (!ending || mode === "json") report.show(event);
      if (event.type === "connected") connected = true;
      else if (event.type === "delivered" || event.type === "deleted") failed.delete(event.filename);
      else if (event.type === "failed") failed.add(event.filename);
      else if (event.type === "denied") end({ status: 1, message: `${endpoint}: ${event.reason}` });
      else if (event.type === "connection-failed" && once) end({ status: 1, message: event.reason });
      else if (event.type === "caught-up" && once) end(failed.size === 0 ? { status: 0 } : { status: 1, message: `caught up, but ${plural(failed.size, "file")} could not be written into ${inbox}` });
    };
    const tracer = messageTracer(logger, verbose);
    const subscriber = await subscribe(endpoint, {
      inbox, paths, heartbeat, quiet, logger, verbose, onEvent, fsync: values["no-fsync"] !== true,
      ...credentials,
      ...(security ? { security } : {}),
      ...(tracer ? { traceMessages: tracer } : {}),
    });
    const unreachable = once ? setTimeout(() => {
      if (!connected) end({ status: 1, message: `cannot reach ${endpoint}: no answer within ${timeoutMs / 1000} s` });
    }, timeoutMs) : undefined;
    const ending = await Promise.race([ended, io.interrupted.then((): Ending => ({ status: 0 }))]);
    clearTimeout(unreachable);
    try {
      // KTHXBAI goes out at once to a publisher that is there; one that is not must not hold the exit up.
      await subscriber.close({ timeout: 1000 });
    } finally {
      report.close();
    }
    if (ending.message !== undefined) io.stderr.write(`filemq subscribe: ${ending.message}\n`);
    return ending.status;
  },
};

/** A whole number of seconds from an option, or the default. */
export function seconds(text: OptionValues[string], option: string, fallback: number): number {
  return whole(text, option, fallback, 1);
}

/** A whole number from an option, or the default. */
export function whole(text: OptionValues[string], option: string, fallback: number, minimum = 0): number {
  if (text === undefined) return fallback;
  const value = typeof text === "string" && /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < minimum) throw new UsageError(`${option} must be a whole number from ${minimum}, not ${JSON.stringify(text)}`);
  return value;
}
