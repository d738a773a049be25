/**
 * `filemq subscribe`: mirrors a publisher into an inbox until stopped, or with `--once` until the inbox
 * holds the publisher's whole tree.
 */
import { plural } from "../../../runtime/wire/plural.js";
import { subscribe, type SubscriberEvent } from "../client.js";
import { commandLogger, credentialsOption, curveClientOption, messageTracer, onePositional, UsageError } from "./common.js";
import type { Command } from "./main.js";
import { reportMode, subscriberReport } from "./report.js";

export const SUBSCRIBE_USAGE = `Usage: filemq subscribe <endpoint> --inbox <dir> [options]

Mirrors what a FileMQ publisher serves into an inbox directory and keeps it in sync. A file is written
under a hidden temporary name and renamed when complete, so a reader never sees part of one; deletes are
applied; after a restart only what changed is transferred again (the inbox keeps digests in .cache).

Options:
  --inbox DIR             where files go (created if missing)
  --path PATH             virtual path to subscribe to, repeatable (default /: everything)
  --user LOGIN            log in with SASL PLAIN; the password is the first line of --password-file,
                          or the FILEMQ_PASSWORD environment variable (never a command-line argument)
  --password-file FILE    the file holding the password
  --curve-server PUB      encrypt with CURVE; the server's public certificate (filemq keygen)
  --curve CERT            with --curve-server, this client's own secret certificate (for servers that
                          let in only listed clients)
  --once                  exit 0 as soon as the inbox holds the publisher's whole tree
  --timeout SECONDS       with --once: give up when the publisher does not answer within this time (default 10)
  --quiet MS              quiet time before checking whether the inbox caught up (default 500)
  --heartbeat SECONDS     HUGZ after this much silence from the publisher; three mean it is gone (default 1)
  --no-fsync              rename files into place without flushing them to disk first (faster; a crash
                          of the machine may then leave a renamed file with missing data)
  --json                  one JSON object per event on stdout
  --verbose               log states, events and every message on stderr (passwords redacted)
  -h, --help              this text

Caught up: FILEMQ/1 has no message that ends a resync. When nothing has arrived for the quiet time, no file
is half received and credit is outstanding (so the publisher is free to send), the subscriber sends HUGZ.
The publisher answers messages in order, so a HUGZ-OK with no file data before it means it had nothing
more queued: the inbox holds everything published under the paths. This works with any FILEMQ/1 publisher.

Exit status: 0 when caught up (--once) or stopped by SIGINT/SIGTERM (no temporary file is left);
1 when access is denied, the publisher cannot be reached or refuses the CURVE handshake (--once), a file
could not be written into the inbox (--once; disk full, say), or something fails; 2 for a bad command line.
`;

/** What ends a subscribe command: an exit status and, for failures, the line saying why. */
interface Ending {
  readonly status: number;
  readonly message?: string;
}

export const subscribeCommand: Omit<Command, "usage"> = {
  options: {
    inbox: { type: "string" },
    path: { type: "string", multiple: true },
    user: { type: "string" },
    "password-file": { type: "string" },
    "curve-server": { type: "string" },
    curve: { type: "string" },
    once: { type: "boolean" },
    timeout: { type: "string" },
    quiet: { type: "string" },
    heartbeat: { type: "string" },
    "no-fsync": { type: "boolean" },
    json: { type: "boolean" },
    verbose: { type: "boolean" },
  },

  async run(values, positionals, io) {
    const endpoint = onePositional(positionals, "which publisher? give its endpoint, e.g. tcp://127.0.0.1:5670");
    const inbox = values.inbox;
    if (typeof inbox !== "string") throw new UsageError("--inbox is required");
    const once = values.once === true;
    const timeoutMs = seconds(values.timeout, "--timeout", 10) * 1000;
    const heartbeat = seconds(values.heartbeat, "--heartbeat", 1) * 1000;
    const quiet = whole(values.quiet, "--quiet", 500);
    const credentials = await credentialsOption(values, io.env);
    const verbose = values.verbose === true;
    const logger = commandLogger(io, "filemq subscribe", verbose);
    const security = await curveClientOption(values, logger);
    const report = subscriberReport(io, reportMode(io, values.json === true));

    let end: (ending: Ending) => void = () => undefined;
    const ended = new Promise<Ending>((resolve) => (end = resolve));
    let connected = false;
    /** Files the inbox could not write: with --once, the mirror is then incomplete. */
    const failed = new Set<string>();
    const onEvent = (event: SubscriberEvent): void => {
      report.show(event);
      if (event.type === "connected") connected = true;
      else if (event.type === "delivered" || event.type === "deleted") failed.delete(event.filename);
      else if (event.type === "failed") failed.add(event.filename);
      else if (event.type === "denied") end({ status: 1, message: `${endpoint}: ${event.reason}` });
      else if (event.type === "connection-failed" && once) end({ status: 1, message: event.reason });
      else if (event.type === "caught-up" && once) end(failed.size === 0 ? { status: 0 } : { status: 1, message: `caught up, but ${plural(failed.size, "file")} could not be written into ${inbox}` });
    };
    const tracer = messageTracer(logger, verbose);
    const subscriber = await subscribe(endpoint, {
      inbox, paths: (values.path as string[] | undefined) ?? ["/"], heartbeat, quiet, logger, verbose, onEvent, fsync: values["no-fsync"] !== true,
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
export function seconds(text: string | boolean | string[] | undefined, option: string, fallback: number): number {
  return whole(text, option, fallback, 1);
}

/** A whole number from an option, or the default. */
export function whole(text: string | boolean | string[] | undefined, option: string, fallback: number, minimum = 0): number {
  if (text === undefined) return fallback;
  const value = typeof text === "string" && /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < minimum) throw new UsageError(`${option} must be a whole number from ${minimum}, not ${JSON.stringify(text)}`);
  return value;
}
