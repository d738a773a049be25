/**
 * `filemq publish`: serves a directory (and the configuration's `publish` sections) until stopped.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { loadZplFile } from "../../../runtime/zpl/parse.js";
import { ZplNode } from "../../../runtime/zpl/tree.js";
import type { Mount } from "../catalog.js";
import { startPublisher, type FileMqPublisher, type PublisherEvent } from "../server.js";
import { CommandFailed, commandLogger, CONFIG, CURVE_CLIENT, curveServerOption, JSON_OUTPUT, listOption, messageTracer, UsageError, VERBOSE, virtualPathsOption, type CliIo, type FilemqCommand } from "./common.js";
import { publisherReport, reportMode, type Report } from "./report.js";

export const publishCommand: FilemqCommand = {
  name: "publish",
  synopsis: "[DIR] [--bind ENDPOINT]... [--alias PATH] [--config FILE] [--curve CERT [--curve-client PUB]...] [--json] [--verbose]",
  summary: "serve a directory tree to subscribers",
  description: `
Serves the directory DIR, and the directories of the configuration's publish sections, to FileMQ
subscribers and keeps them in sync: new, changed, truncated and deleted files are noticed (file watching,
plus a rescan every server/monitor seconds) and sent once they have not changed for the stability age.
Hidden files (names starting with .) are never published. Give DIR, or --config with publish sections.

Access is anonymous unless the configuration has a security section (security/plain = 1 with accounts
requires SASL PLAIN logins). Stops on SIGINT or SIGTERM.

Exit status: 0 when stopped by a signal; 1 when it cannot start (no such directory, bad configuration,
endpoint in use); 2 for a bad command line.`,
  options: {
    bind: { type: "string", value: "ENDPOINT", multiple: true, help: "endpoint to serve on, repeatable (default tcp://*:5670 when the configuration binds none)" },
    alias: { type: "string", value: "PATH", help: "virtual path DIR is published under (default /)" },
    config: CONFIG,
    curve: { type: "string", value: "CERT", help: "encrypt with CURVE, using this secret certificate (filemq keygen)" },
    "curve-client": CURVE_CLIENT,
    json: JSON_OUTPUT,
    verbose: VERBOSE,
  },
  operands: { noun: "directory", many: false, min: 0 },

  async run(operands, values, io) {
    const [directory] = operands;
    const configFile = typeof values.config === "string" ? values.config : undefined;
    if (directory === undefined && configFile === undefined) throw new UsageError("what to publish? give a directory, or --config with publish sections");
    const [alias = "/"] = virtualPathsOption(values, "alias") ?? [];
    if (directory !== undefined && (await stat(directory).catch(() => undefined))?.isDirectory() !== true) throw new CommandFailed(`${directory} is not a directory`);
    const mounts: Mount[] = directory === undefined ? [] : [{ location: resolve(directory), alias }];
    const config = await serverConfig(configFile);
    curveServerOption(config, values);
    const report = publisherReport(io, reportMode(io, values.json === true));
    const publisher = await startServing(io, report, { config, mounts, verbose: values.verbose === true, binds: listOption(values, "bind") });
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
