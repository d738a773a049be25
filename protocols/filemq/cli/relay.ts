/**
 * `filemq relay`: mirrors an upstream publisher into an inbox and serves the inbox downstream.
 */
import { startRelay } from "../relay.js";
import type { SubscriberEvent } from "../client.js";
import {
  CommandFailed, commandLogger, CONFIG, credentialsOption, CURVE_CLIENT, curveClientOption, curveServerOption, HEARTBEAT, JSON_OUTPUT, listOption,
  messageTracer, PASSWORD_FILE, ReportedFailures, USER, UsageError, VERBOSE, virtualPathsOption, type FilemqCommand,
} from "./common.js";
import { serverConfig } from "./publish.js";
import { publisherReport, reportMode, subscriberLine } from "./report.js";
import { seconds } from "./subscribe.js";

export const relayCommand: FilemqCommand = {
  name: "relay",
  synopsis: "UPSTREAM --inbox DIR --bind ENDPOINT... [--path PATH]... [--alias PATH] [--user LOGIN --password-file FILE] [--config FILE] [options]",
  summary: "mirror a publisher and serve the mirror downstream",
  description: `
Subscribes to the publisher at UPSTREAM, mirrors it into an inbox, and publishes that inbox downstream, so
one publisher can feed a tree of relays and many subscribers on other hosts. A file appears downstream
only once it is complete upstream.

Stops on SIGINT or SIGTERM. Exit status: 0 when stopped by a signal; 1 when upstream denies access or it
cannot start; 2 for a bad command line.`,
  options: {
    inbox: { type: "string", value: "DIR", help: "the mirror (created if missing)" },
    bind: { type: "string", value: "ENDPOINT", multiple: true, help: "downstream endpoint, repeatable" },
    path: { type: "string", value: "PATH", multiple: true, help: "upstream virtual path to subscribe to, repeatable (default /)" },
    alias: { type: "string", value: "PATH", help: "virtual path the mirror is published under downstream (default /)" },
    user: USER,
    "password-file": PASSWORD_FILE,
    config: { ...CONFIG, help: "downstream server configuration (security, timing), as for filemq publish" },
    "curve-server": { type: "string", value: "PUB", help: "upstream CURVE: the upstream publisher's public certificate" },
    curve: { type: "string", value: "CERT", help: "downstream CURVE: this relay's secret certificate (also its own key upstream)" },
    "curve-client": CURVE_CLIENT,
    heartbeat: HEARTBEAT,
    json: { ...JSON_OUTPUT, help: 'one JSON object per event on stdout ("side": "upstream" or "downstream")' },
    verbose: VERBOSE,
  },
  operands: { noun: "upstream endpoint", many: false },

  async run(operands, values, io) {
    const [upstream] = operands;
    const inbox = values.inbox;
    if (typeof inbox !== "string") throw new UsageError("--inbox is required");
    const binds = listOption(values, "bind");
    if (binds === undefined) throw new UsageError("--bind is required: where do subscribers connect?");
    const paths = virtualPathsOption(values, "path") ?? ["/"];
    const [alias = "/"] = virtualPathsOption(values, "alias") ?? [];
    const heartbeat = seconds(values.heartbeat, "--heartbeat", 1) * 1000;
    const credentials = await credentialsOption(values, io.env);
    const verbose = values.verbose === true;
    const log = commandLogger(io, "filemq relay", verbose);
    // Upstream connection failures are the command's lines, not also the engine's error records.
    const failures = verbose ? undefined : new ReportedFailures(log);
    const logger = failures ?? log;
    const upstreamSecurity = await curveClientOption({ "curve-server": values["curve-server"], ...(values["curve-server"] !== undefined ? { curve: values.curve } : {}) }, logger);
    const downstreamConfig = await serverConfig(typeof values.config === "string" ? values.config : undefined);
    curveServerOption(downstreamConfig, values);
    const tracer = messageTracer(logger, verbose);
    const mode = reportMode(io, values.json === true);
    const downstream = publisherReport(io, mode, { side: "downstream" });
    let denied: (reason: string) => void = () => undefined;
    const denial = new Promise<string>((resolve) => (denied = resolve));
    const upstreamEvent = (event: SubscriberEvent): void => {
      if (event.type === "connection-failed") failures?.report(event.reason);
      if (event.type === "denied") denied(event.reason);
      if (mode === "json") {
        const { type, ...fields } = event;
        if (type !== "progress") io.stdout.write(`${JSON.stringify({ event: type, side: "upstream", ...fields, time: new Date().toISOString() })}\n`);
        return;
      }
      // A denial ends the command: its last line, on stderr, says so.
      const line = event.type === "denied" ? undefined : subscriberLine(event);
      if (line !== undefined) downstream.note(`upstream: ${line}`);
    };
    const relay = await startRelay({
      upstream, inbox, alias, logger,
      subscriber: {
        paths, heartbeat, verbose, onEvent: upstreamEvent,
        ...credentials,
        ...(upstreamSecurity ? { security: upstreamSecurity } : {}),
        ...(tracer ? { traceMessages: tracer } : {}),
      },
      publisher: { config: downstreamConfig, verbose, onEvent: (event) => downstream.show(event), ...(tracer ? { traceMessages: tracer } : {}) },
    });
    try {
      for (const endpoint of binds) downstream.note(`relaying ${upstream} on ${await relay.bind(endpoint)}`);
    } catch (error) {
      await relay.close();
      throw new CommandFailed(`cannot serve: ${error instanceof Error ? error.message : String(error)}`);
    }
    const ending = await Promise.race([denial.then((reason) => ({ status: 1, reason })), io.interrupted.then(() => ({ status: 0, reason: "" }))]);
    await relay.close();
    downstream.close();
    if (ending.status !== 0) io.stderr.write(`filemq relay: ${upstream}: ${ending.reason}\n`);
    return ending.status;
  },
};
