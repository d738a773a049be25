/**
 * `filemq relay`: mirrors an upstream publisher into an inbox and serves the inbox downstream.
 */
import { startRelay } from "../relay.js";
import type { SubscriberEvent } from "../client.js";
import { CommandFailed, commandLogger, credentialsOption, curveClientOption, curveServerOption, messageTracer, onePositional, UsageError } from "./common.js";
import type { Command } from "./main.js";
import { serverConfig } from "./publish.js";
import { publisherReport, reportMode, subscriberLine } from "./report.js";
import { seconds } from "./subscribe.js";

export const RELAY_USAGE = `Usage: filemq relay <upstream> --inbox <dir> --bind <endpoint> [options]

Subscribes to an upstream publisher, mirrors it into an inbox, and publishes that inbox downstream, so one
publisher can feed a tree of relays and many subscribers on other hosts. A file appears downstream only
once it is complete upstream.

Options:
  --inbox DIR             the mirror (created if missing)
  --bind ENDPOINT         downstream endpoint, repeatable
  --path PATH             upstream virtual path to subscribe to, repeatable (default /)
  --alias PATH            virtual path the mirror is published under downstream (default /)
  --user LOGIN            upstream SASL PLAIN login (password from --password-file or FILEMQ_PASSWORD)
  --password-file FILE    the file holding the upstream password
  --config FILE           downstream server configuration (security, timing), as for filemq publish
  --curve-server PUB      upstream CURVE: the upstream publisher's public certificate
  --curve CERT            downstream CURVE: this relay's secret certificate (also its own key upstream)
  --curve-client PUB      with --curve, the downstream clients let in (repeatable)
  --heartbeat SECONDS     upstream silence before HUGZ (default 1)
  --json                  one JSON object per event on stdout ("side": "upstream" or "downstream")
  --verbose               log states, events and every message on stderr (passwords redacted)
  -h, --help              this text

Stops on SIGINT or SIGTERM. Exit status: 0 when stopped by a signal; 1 when upstream denies access or it
cannot start; 2 for a bad command line.
`;

export const relayCommand: Omit<Command, "usage"> = {
  options: {
    inbox: { type: "string" },
    bind: { type: "string", multiple: true },
    path: { type: "string", multiple: true },
    alias: { type: "string" },
    user: { type: "string" },
    "password-file": { type: "string" },
    config: { type: "string" },
    "curve-server": { type: "string" },
    curve: { type: "string" },
    "curve-client": { type: "string", multiple: true },
    heartbeat: { type: "string" },
    json: { type: "boolean" },
    verbose: { type: "boolean" },
  },

  async run(values, positionals, io) {
    const upstream = onePositional(positionals, "which upstream publisher? give its endpoint");
    const inbox = values.inbox;
    if (typeof inbox !== "string") throw new UsageError("--inbox is required");
    const binds = values.bind as string[] | undefined;
    if (binds === undefined) throw new UsageError("--bind is required: where do subscribers connect?");
    const credentials = await credentialsOption(values, io.env);
    const verbose = values.verbose === true;
    const logger = commandLogger(io, "filemq relay", verbose);
    const upstreamSecurity = await curveClientOption({ "curve-server": values["curve-server"], ...(values["curve-server"] !== undefined ? { curve: values.curve } : {}) }, logger);
    const downstreamConfig = await serverConfig(values.config as string | undefined);
    curveServerOption(downstreamConfig, values);
    const tracer = messageTracer(logger, verbose);
    const mode = reportMode(io, values.json === true);
    const downstream = publisherReport(io, mode);
    let denied: (reason: string) => void = () => undefined;
    const denial = new Promise<string>((resolve) => (denied = resolve));
    const upstreamEvent = (event: SubscriberEvent): void => {
      if (event.type === "denied") denied(event.reason);
      if (mode === "json") {
        const { type, ...fields } = event;
        if (type !== "progress") io.stdout.write(`${JSON.stringify({ event: type, side: "upstream", ...fields, time: new Date().toISOString() })}\n`);
        return;
      }
      const line = subscriberLine(event);
      if (line !== undefined) downstream.note(`upstream: ${line}`);
    };
    const relay = await startRelay({
      upstream, inbox, alias: (values.alias as string | undefined) ?? "/", logger,
      subscriber: {
        paths: (values.path as string[] | undefined) ?? ["/"], heartbeat: seconds(values.heartbeat, "--heartbeat", 1) * 1000, verbose, onEvent: upstreamEvent,
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
