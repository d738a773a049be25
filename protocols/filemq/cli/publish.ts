/**
 * `filemq publish`: serves a directory (and the configuration's `publish` sections) until stopped.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { loadZplFile } from "../../../runtime/zpl/parse.js";
import { ZplNode } from "../../../runtime/zpl/tree.js";
import type { Mount } from "../catalog.js";
import { startPublisher, type FileMqPublisher, type PublisherEvent } from "../server.js";
import { CommandFailed, commandLogger, curveServerOption, messageTracer, UsageError, type CliIo } from "./common.js";
import type { Command } from "./main.js";
import { publisherReport, reportMode, type Report } from "./report.js";

export const PUBLISH_USAGE = `Usage: filemq publish <dir> [options]
       filemq publish --config FILE [options]

Serves a directory tree to FileMQ subscribers and keeps them in sync: new, changed, truncated and deleted
files are noticed (file watching, plus a rescan every server/monitor seconds) and sent once they have not
changed for the stability age. Hidden files (names starting with .) are never published.

Options:
  --bind ENDPOINT   endpoint to serve on, repeatable (default tcp://*:5670 when the configuration binds none)
  --alias PATH      virtual path the directory is published under (default /)
  --config FILE     server configuration (ZPL, the Guide's keys: server, publish, bind, security; see
                    docs/filemq.md); its publish sections add directories
  --curve CERT      encrypt with CURVE, using this secret certificate (filemq keygen)
  --curve-client PUB  with --curve, let in only clients with these public certificates (repeatable)
  --json            one JSON object per event on stdout
  --verbose         log states, events and every message on stderr (passwords redacted)
  -h, --help        this text

Access is anonymous unless the configuration has a security section (security/plain = 1 with accounts
requires SASL PLAIN logins). Stops on SIGINT or SIGTERM.

Exit status: 0 when stopped by a signal; 1 when it cannot start (no such directory, bad configuration,
endpoint in use); 2 for a bad command line.
`;

export const publishCommand: Omit<Command, "usage"> = {
  options: {
    bind: { type: "string", multiple: true },
    alias: { type: "string" },
    config: { type: "string" },
    curve: { type: "string" },
    "curve-client": { type: "string", multiple: true },
    json: { type: "boolean" },
    verbose: { type: "boolean" },
  },

  async run(values, positionals, io) {
    const [directory, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
    if (directory === undefined && values.config === undefined) throw new UsageError("what to publish? give a directory, or --config with publish sections");
    if (directory !== undefined && (await stat(directory).catch(() => undefined))?.isDirectory() !== true) throw new CommandFailed(`${directory} is not a directory`);
    const mounts: Mount[] = directory === undefined ? [] : [{ location: resolve(directory), alias: (values.alias as string | undefined) ?? "/" }];
    const config = await serverConfig(values.config as string | undefined);
    curveServerOption(config, values);
    const report = publisherReport(io, reportMode(io, values.json === true));
    const publisher = await startServing(io, report, { config, mounts, verbose: values.verbose === true, binds: values.bind as string[] | undefined });
    const signal = await io.interrupted;
    report.note(`stopping (${signal})`);
    await publisher.close();
    report.close();
    return 0;
  },
};

/** A server configuration from a file, or an empty one; without a security section, access is anonymous. */
export async function serverConfig(file: string | undefined): Promise<ZplNode> {
  let tree: ZplNode;
  try {
    tree = file === undefined ? ZplNode.createRoot() : await loadZplFile(file);
  } catch (error) {
    throw new CommandFailed(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (tree.locate("security") === undefined && tree.locate("set_anonymous") === undefined) tree.set("security/anonymous", "1");
  return tree;
}

/** Starts a publisher and binds its endpoints, telling the report where it serves what. */
export async function startServing(io: CliIo, report: Report<PublisherEvent>, setup: { config: ZplNode; mounts: readonly Mount[]; verbose: boolean; binds: readonly string[] | undefined }): Promise<FileMqPublisher> {
  const logger = commandLogger(io, "filemq publish", setup.verbose);
  const tracer = messageTracer(logger, setup.verbose);
  const publisher = await startPublisher({
    config: setup.config, mounts: setup.mounts, logger, verbose: setup.verbose, onEvent: (event) => report.show(event),
    ...(tracer ? { traceMessages: tracer } : {}),
  });
  try {
    const bound = [...publisher.settings.endpoints];
    for (const endpoint of setup.binds ?? (bound.length === 0 ? ["tcp://*:5670"] : [])) bound.push(await publisher.bind(endpoint));
    const mounts = publisher.catalog.mounts.map((mount) => `${mount.location} as ${mount.alias}`).join(", ");
    for (const endpoint of bound) report.note(`publishing ${mounts} on ${endpoint}`, { endpoint });
  } catch (error) {
    await publisher.close();
    throw new CommandFailed(`cannot serve: ${error instanceof Error ? error.message : String(error)}`);
  }
  return publisher;
}
