#!/usr/bin/env node
/**
 * The `majordomo` command: run a Majordomo (MDP/0.1) broker or a worker that serves requests with a shell
 * command, send a request, or ask the broker which services it has (MMI).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { codec as brokerCodec } from "../generated/majordomo/mdp01_broker.js";
import { schema as clientSchema } from "../generated/majordomo/mdp01_client_msg.js";
import { schema as workerSchema } from "../generated/majordomo/mdp01_worker_msg.js";
import { createBroker } from "../protocols/majordomo/broker.js";
import { Client } from "../protocols/majordomo/client.js";
import { Worker, type WorkerHandler } from "../protocols/majordomo/worker.js";
import { zplTracer } from "../protocols/majordomo/trace.js";
import { createLogger, type MessageTracer } from "../runtime/engine/index.js";
import { loadConfig } from "../runtime/engine/config.js";
import type { ZplNode } from "../runtime/zpl/tree.js";
import { UsageError, exitOnBrokenPipe, packageVersion, runProgram, type Command, type OptionSpec, type OptionValues } from "./cli.js";

const VERBOSE: OptionSpec = { type: "boolean", help: "trace every message received and sent, in its ZPL form, on stderr" };
const JSON_OUTPUT: OptionSpec = { type: "boolean", help: "print JSON lines instead of text" };
const MAX_MESSAGE_SIZE: OptionSpec = {
  type: "string", value: "OCTETS", help: "largest frame this side accepts (default 1048576); a peer sending a larger one is disconnected",
};

/** A whole-number option, or its default. */
function count(options: OptionValues, name: string, fallback: number): number {
  const text = options[name];
  if (text === undefined) return fallback;
  if (typeof text !== "string" || !/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** The engine option of --max-message-size, when given (the engine checks its range). */
function frameLimit(options: OptionValues): { maxMessageSize?: number } {
  return options["max-message-size"] === undefined ? {} : { maxMessageSize: count(options, "max-message-size", 0) };
}

/** Writes traces to stderr when --verbose is given. */
function tracer(options: OptionValues, schema: "broker" | "client" | "worker"): MessageTracer | undefined {
  if (options.verbose !== true) return undefined;
  const schemaOf = schema === "broker" ? (message: { message: string }) => brokerCodec.codecOf(message.message)?.schema
    : () => (schema === "client" ? clientSchema : workerSchema);
  return zplTracer(schemaOf, (text) => process.stderr.write(text));
}

/** Resolves with the signal on SIGINT or SIGTERM. */
function interrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}

const brokerCommand: Command = {
  name: "broker",
  synopsis: "--bind ENDPOINT... [--config FILE] [--max-message-size OCTETS] [--verbose]",
  summary: "run a broker for clients and workers on one ROUTER socket",
  description: `
Runs a Majordomo broker (MDP/0.1 with MMI) until SIGINT or SIGTERM, and prints each endpoint it binds
on stdout, those of the configuration file first (useful with tcp://127.0.0.1:* for a free port). An
endpoint that cannot be bound ends it with one line and status 1. Its log goes to stderr.

The configuration file is ZPL, section broker: heartbeat, liveness, request_expiry, busy_timeout,
redeliver, service_expiry, max_queue, heartbeat_busy and bind/endpoint (see docs/majordomo.md).`,
  options: {
    bind: { type: "string", value: "ENDPOINT", multiple: true, help: "endpoint to bind, e.g. tcp://*:5555 (may repeat)" },
    config: { type: "string", value: "FILE", help: "ZPL configuration file (section broker)" },
    "max-message-size": MAX_MESSAGE_SIZE,
    verbose: VERBOSE,
  },
  operands: { noun: "operand", many: false, min: 0 },
  async run(operands, options) {
    if (operands.length > 0) throw new UsageError(`takes no operands, only options ('${operands[0]}')`);
    const config = typeof options.config === "string" ? await loadConfig(options.config) : undefined;
    const endpoints = [...(config !== undefined ? takeBindEndpoints(config) : []), ...(Array.isArray(options.bind) ? options.bind : [])];
    if (endpoints.length === 0) throw new UsageError("needs --bind ENDPOINT or a --config file that binds one");
    const trace = tracer(options, "broker");
    const server = createBroker({
      logger: createLogger({ name: "majordomo broker" }),
      ...frameLimit(options),
      ...(config !== undefined ? { config } : {}),
      ...(trace ? { traceMessages: trace } : {}),
    });
    try {
      await server.start();
      for (const endpoint of endpoints) process.stdout.write(`${await server.bind(endpoint)}\n`);
      await interrupted();
    } finally {
      await server.close();
    }
    return 0;
  },
};

/**
 * Takes the endpoints a configuration binds (`broker/bind/endpoint`) out of it, for the command to bind
 * itself: the engine would log a failed bind and go on, and print nothing a script could read.
 */
function takeBindEndpoints(config: ZplNode): string[] {
  const endpoints = config.all("broker/bind/endpoint").map((node) => node.value ?? "").filter((endpoint) => endpoint !== "");
  const broker = config.locate("broker");
  if (broker !== undefined) broker.children = broker.children.filter((child) => child.name !== "bind");
  return endpoints;
}

/** How long a command may go on after the worker passed it SIGINT or SIGTERM, before it is killed. */
const STOP_GRACE_MS = 5000;

/** A worker's commands: the handler that runs one per request, and a way to signal those still running. */
interface CommandRunner {
  readonly handler: WorkerHandler;
  signal(signal: NodeJS.Signals): void;
}

/**
 * Runs the command once per request, the body on its stdin: the handler resolves with its stdout and rejects
 * unless it exits with 0. Keeps the commands running, so that a signal to the worker can reach them.
 */
function commandRunner(command: string, args: readonly string[]): CommandRunner {
  const running = new Set<ChildProcess>();
  const handler: WorkerHandler = (body) => new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    running.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.stdin.on("error", () => undefined);
    child.once("error", (error) => {
      running.delete(child);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      running.delete(child);
      if (code === 0) {
        resolve(Buffer.concat(out));
        return;
      }
      const detail = Buffer.concat(err).toString().trim().split("\n").pop() ?? "";
      reject(new Error(`${command} ${signal !== null ? `was killed by ${signal}` : `exited with status ${code}`}${detail ? `: ${detail}` : ""}`));
    });
    for (const frame of body) child.stdin.write(frame);
    child.stdin.end();
  });
  return { handler, signal: (signal) => running.forEach((child) => child.kill(signal)) };
}

const workerCommand: Command = {
  name: "worker",
  synopsis: "ENDPOINT SERVICE [options] -- COMMAND [ARG...]",
  summary: "serve a service with a command: request body on its stdin, its stdout is the reply",
  description: `
Serves SERVICE at the broker at ENDPOINT until SIGINT or SIGTERM: runs COMMAND once per request, with the
request body on its stdin (frames one after the other), and answers with its stdout as one frame. A
command that exits with a non-zero status answers nothing, and the failure is logged on stderr; the
broker hands the request to a worker once more (broker/redeliver), then drops it. On SIGINT or SIGTERM
a running command gets the same signal (and SIGKILL 5 s later), then the worker says DISCONNECT and exits.

Heartbeat and liveness must match the broker's.`,
  options: {
    heartbeat: { type: "string", value: "MS", help: "heartbeat interval, as the broker's (default 2500)" },
    liveness: { type: "string", value: "N", help: "heartbeats of silence before the broker counts as gone (default 3)" },
    reconnect: { type: "string", value: "MS", help: "wait before registering again (default 2500, doubling up to 30000)" },
    "max-message-size": MAX_MESSAGE_SIZE,
    verbose: VERBOSE,
  },
  operands: { noun: "operand", many: true, min: 0 },
  async run(operands, options) {
    const [endpoint, service, ...command] = operands;
    if (endpoint === undefined || service === undefined) throw new UsageError("needs ENDPOINT and SERVICE");
    if (command.length === 0) throw new UsageError("needs a command after --, e.g. -- tr a-z A-Z");
    const trace = tracer(options, "worker");
    const commands = commandRunner(command[0], command.slice(1));
    const serving = await Worker.start(endpoint, service, commands.handler, {
      logger: createLogger({ name: `majordomo worker ${service}` }),
      heartbeat: count(options, "heartbeat", 2500), liveness: count(options, "liveness", 3), reconnect: count(options, "reconnect", 2500),
      ...frameLimit(options),
      ...(trace ? { traceMessages: trace } : {}),
    });
    // A running command gets the signal too, as a shell's foreground job would: it ends (answering nothing
    // unless it exits 0), the worker says DISCONNECT and the broker hands its request on at once. Otherwise
    // the worker would wait for the command, however long, while the broker waited for the worker.
    const signal = await interrupted();
    commands.signal(signal);
    const killer = setTimeout(() => commands.signal("SIGKILL"), STOP_GRACE_MS);
    try {
      await serving.close({ timeout: STOP_GRACE_MS + 1000 });
    } finally {
      clearTimeout(killer);
    }
    return 0;
  },
};

async function connect(options: OptionValues, endpoint: string): Promise<Client> {
  const trace = tracer(options, "client");
  return Client.connect(endpoint, {
    logger: createLogger({ name: "majordomo", level: "warn" }),
    timeout: count(options, "timeout", 2500), retries: count(options, "retries", 3),
    ...frameLimit(options),
    ...(trace ? { traceMessages: trace } : {}),
  });
}

/** A frame for JSON output: text when it is UTF-8 that round-trips, else hex. */
function jsonFrame(frame: Buffer): { text: string } | { hex: string } {
  const text = frame.toString("utf8");
  return Buffer.from(text, "utf8").equals(frame) ? { text } : { hex: frame.toString("hex") };
}

const requestCommand: Command = {
  name: "request",
  synopsis: "ENDPOINT SERVICE BODY... [--timeout MS] [--retries N] [--max-message-size OCTETS] [--json] [--verbose]",
  summary: "send a request and print the reply",
  description: `
Sends one request to SERVICE through the broker at ENDPOINT, one frame per BODY (- reads that frame from
stdin), and prints the reply, one line per frame (a frame that ends with a newline gets no other). Each
attempt waits --timeout ms, then the request goes again on a new socket, --retries times. When no reply
comes it asks the broker (mmi.service) why, says so in one line on stderr and exits 1: no worker offers
the service, the service did not reply, or the broker did not answer.`,
  options: {
    timeout: { type: "string", value: "MS", help: "how long each attempt waits (default 2500)" },
    retries: { type: "string", value: "N", help: "attempts after the first (default 3)" },
    json: { type: "boolean", help: 'print {"service", "body": [{"text"} or {"hex"}]} instead' },
    "max-message-size": MAX_MESSAGE_SIZE,
    verbose: VERBOSE,
  },
  operands: { noun: "operand", many: true, min: 0 },
  async run(operands, options) {
    const [endpoint, service, ...bodies] = operands;
    if (endpoint === undefined || service === undefined || bodies.length === 0) throw new UsageError("needs ENDPOINT, SERVICE and at least one BODY");
    const stdin = bodies.includes("-") ? await readStdin() : undefined;
    const body = bodies.map((part) => (part === "-" ? stdin ?? Buffer.alloc(0) : Buffer.from(part)));
    const client = await connect(options, endpoint);
    try {
      const reply = await client.request(service, body);
      if (options.json === true) process.stdout.write(`${JSON.stringify({ service, body: reply.map(jsonFrame) })}\n`);
      else for (const frame of reply) process.stdout.write(frame.at(-1) === 0x0a ? frame : Buffer.concat([frame, Buffer.from("\n")]));
      return 0;
    } finally {
      await client.close({ timeout: 1000 });
    }
  },
};

const servicesCommand: Command = {
  name: "services",
  synopsis: "ENDPOINT NAME... [--timeout MS] [--json] [--verbose]",
  summary: "ask the broker (MMI) whether services have a worker, one line per name",
  description: `
Asks the broker at ENDPOINT (mmi.service) about each NAME and prints "NAME CODE": 200 when a live worker
offers it, 404 when none does. Exits 0 when every name has a worker and 1 otherwise; when the broker does
not answer, says so in one line on stderr and exits 1.`,
  options: {
    timeout: { type: "string", value: "MS", help: "how long each question waits (default 2500)" },
    json: JSON_OUTPUT,
    verbose: VERBOSE,
  },
  operands: { noun: "operand", many: true, min: 0 },
  async run(operands, options) {
    const [endpoint, ...names] = operands;
    if (endpoint === undefined || names.length === 0) throw new UsageError("needs ENDPOINT and at least one NAME");
    const client = await connect(options, endpoint);
    let missing = 0;
    try {
      for (const name of names) {
        const reply = await client.request("mmi.service", name, { retries: 0 });
        const code = reply[reply.length - 1].toString();
        if (code !== "200") missing++;
        process.stdout.write(options.json === true ? `${JSON.stringify({ service: name, code: Number(code) })}\n` : `${name} ${code}\n`);
      }
    } finally {
      await client.close({ timeout: 1000 });
    }
    return missing === 0 ? 0 : 1;
  },
};

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

exitOnBrokenPipe();
runProgram({
  name: "majordomo",
  version: packageVersion(import.meta.url),
  summary: "Majordomo (MDP/0.1 with MMI): a broker, workers that serve with shell commands, requests and service queries.",
  commands: [brokerCommand, workerCommand, requestCommand, servicesCommand],
}, process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`majordomo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
