#!/usr/bin/env node
/**
 * The `majordomo` command: run a Majordomo (MDP/0.1) broker or a worker that serves requests with a shell
 * command, send a request, or ask the broker which services it has (MMI).
 */
import { spawn } from "node:child_process";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { codec as brokerCodec } from "../generated/majordomo/mdp01_broker.js";
import { schema as clientSchema } from "../generated/majordomo/mdp01_client_msg.js";
import { schema as workerSchema } from "../generated/majordomo/mdp01_worker_msg.js";
import { createBroker } from "../protocols/majordomo/broker.js";
import { Client } from "../protocols/majordomo/client.js";
import { Worker, type WorkerHandler } from "../protocols/majordomo/worker.js";
import { zplTracer } from "../protocols/majordomo/trace.js";
import { createLogger, type MessageTracer } from "../runtime/engine/index.js";

const USAGE = `Usage: majordomo <command> [options]

Commands:
  broker --bind ENDPOINT... [--config FILE] [--verbose]
                           run a broker for clients and workers on one ROUTER socket
  worker ENDPOINT SERVICE [options] -- COMMAND [ARG...]
                           serve SERVICE: each request body goes to COMMAND's stdin, its stdout is the reply
  request ENDPOINT SERVICE BODY... [options]
                           send a request (one frame per BODY, - reads stdin) and print the reply
  services ENDPOINT NAME... [options]
                           ask the broker (MMI) whether each service has a worker: one line per name

Run 'majordomo COMMAND --help' for a command's options.
`;

const HELP: Record<string, string> = {
  broker: `Usage: majordomo broker --bind ENDPOINT... [--config FILE] [--verbose]

Runs a Majordomo broker (MDP/0.1 with MMI) until SIGINT or SIGTERM, and prints each endpoint it bound
on stdout (useful with tcp://127.0.0.1:* for a free port).

Options:
  --bind ENDPOINT    endpoint to bind, e.g. tcp://*:5555 (may repeat; also broker/bind/endpoint)
  --config FILE      ZPL configuration, section broker: heartbeat, liveness, request_expiry,
                     busy_timeout, redeliver, service_expiry, max_queue, heartbeat_busy, bind/endpoint
  --verbose          trace every message received and sent, in its ZPL form, on stderr
`,
  worker: `Usage: majordomo worker ENDPOINT SERVICE [options] -- COMMAND [ARG...]

Serves SERVICE at the broker: runs COMMAND once per request with the request body on its stdin (frames
one after the other) and answers with its stdout as one frame. A command that exits with a non-zero
status answers nothing (logged); the broker hands the request on once, then drops it.

Options:
  --heartbeat MS     heartbeat interval, as the broker's (default 2500)
  --liveness N       heartbeats of silence before the broker counts as gone (default 3)
  --reconnect MS     wait before registering again (default 2500, doubling up to 30000)
  --verbose          trace every message in its ZPL form on stderr
`,
  request: `Usage: majordomo request ENDPOINT SERVICE BODY... [options]

Sends one request (one frame per BODY; - reads the frame from stdin) and prints the reply, one line per
frame (a frame that ends with a newline gets no other). Exits 1 with one line on stderr when no reply comes: no worker offers the service (MMI 404), the
service did not reply, or the broker did not answer.

Options:
  --timeout MS       how long each attempt waits (default 2500)
  --retries N        attempts after the first (default 3)
  --json             print {"service", "body": [{"text"} or {"hex"}]} instead
  --verbose          trace every message in its ZPL form on stderr
`,
  services: `Usage: majordomo services ENDPOINT NAME... [options]

Asks the broker (mmi.service) about each NAME and prints "NAME CODE": 200 when a live worker offers it,
404 when none does. Exits 0 when every name has a worker, 1 otherwise (or when the broker does not
answer: one line on stderr).

Options:
  --timeout MS       how long each question waits (default 2500)
  --json             print {"service", "code"} lines instead
  --verbose          trace every message in its ZPL form on stderr
`,
};

/** A failure the user caused: printed with the usage, exit status 2. */
class UsageError extends Error {}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean", short: "v" },
  json: { type: "boolean" },
  bind: { type: "string", multiple: true },
  config: { type: "string" },
  timeout: { type: "string" },
  retries: { type: "string" },
  heartbeat: { type: "string" },
  liveness: { type: "string" },
  reconnect: { type: "string" },
} satisfies ParseArgsConfig["options"];

type Values = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: OPTIONS, strict: true });
}

/** A whole-number option, or its default. */
function count(values: Values, name: "timeout" | "retries" | "heartbeat" | "liveness" | "reconnect", fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** Writes traces to stderr when --verbose is given. */
function tracer(values: Values, schema: "broker" | "client" | "worker"): MessageTracer | undefined {
  if (!values.verbose) return undefined;
  const schemaOf = schema === "broker" ? (message: { message: string }) => brokerCodec.codecOf(message.message)?.schema
    : () => (schema === "client" ? clientSchema : workerSchema);
  return zplTracer(schemaOf, (text) => process.stderr.write(text));
}

/** Resolves on SIGINT or SIGTERM. */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

async function broker(values: Values, positionals: string[]): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`broker takes no arguments, only options (got ${positionals.join(" ")})`);
  const binds = values.bind ?? [];
  if (binds.length === 0 && values.config === undefined) throw new UsageError("broker needs --bind ENDPOINT or a --config file that binds one");
  const trace = tracer(values, "broker");
  const server = createBroker({
    logger: createLogger({ name: "majordomo broker" }),
    ...(values.config !== undefined ? { config: values.config } : {}),
    ...(trace ? { traceMessages: trace } : {}),
  });
  try {
    await server.start();
    for (const endpoint of binds) process.stdout.write(`${await server.bind(endpoint)}\n`);
    if (binds.length === 0 && server.port === undefined) throw new Error(`${values.config} binds no endpoint (broker/bind/endpoint)`);
    await interrupted();
  } finally {
    await server.close();
  }
  return 0;
}

/** Runs the command with the body on stdin; resolves with its stdout, rejects unless it exits with 0. */
function commandHandler(command: string, args: readonly string[]): WorkerHandler {
  return (body) => new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.stdin.on("error", () => undefined);
    child.once("error", (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.once("close", (code, signal) => {
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
}

async function worker(values: Values, positionals: string[], command: string[]): Promise<number> {
  const [endpoint, service, ...extra] = positionals;
  if (endpoint === undefined || service === undefined) throw new UsageError("worker needs ENDPOINT and SERVICE");
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}: put the command after --`);
  if (command.length === 0) throw new UsageError("worker needs a command after --, e.g. -- tr a-z A-Z");
  const trace = tracer(values, "worker");
  const serving = await Worker.start(endpoint, service, commandHandler(command[0], command.slice(1)), {
    logger: createLogger({ name: `majordomo worker ${service}` }),
    heartbeat: count(values, "heartbeat", 2500), liveness: count(values, "liveness", 3), reconnect: count(values, "reconnect", 2500),
    ...(trace ? { traceMessages: trace } : {}),
  });
  await interrupted();
  await serving.close();
  return 0;
}

async function connect(values: Values, endpoint: string): Promise<Client> {
  const trace = tracer(values, "client");
  return Client.connect(endpoint, {
    logger: createLogger({ name: "majordomo", level: "warn" }),
    timeout: count(values, "timeout", 2500), retries: count(values, "retries", 3),
    ...(trace ? { traceMessages: trace } : {}),
  });
}

/** A frame for JSON output: text when it is UTF-8 that round-trips, else hex. */
function jsonFrame(frame: Buffer): { text: string } | { hex: string } {
  const text = frame.toString("utf8");
  return Buffer.from(text, "utf8").equals(frame) ? { text } : { hex: frame.toString("hex") };
}

async function request(values: Values, positionals: string[]): Promise<number> {
  const [endpoint, service, ...bodies] = positionals;
  if (endpoint === undefined || service === undefined || bodies.length === 0) throw new UsageError("request needs ENDPOINT, SERVICE and at least one BODY");
  const stdin = bodies.includes("-") ? await readStdin() : undefined;
  const body = bodies.map((part) => (part === "-" ? stdin ?? Buffer.alloc(0) : Buffer.from(part)));
  const client = await connect(values, endpoint);
  try {
    const reply = await client.request(service, body);
    if (values.json) process.stdout.write(`${JSON.stringify({ service, body: reply.map(jsonFrame) })}\n`);
    else for (const frame of reply) process.stdout.write(frame.at(-1) === 0x0a ? frame : Buffer.concat([frame, Buffer.from("\n")]));
    return 0;
  } finally {
    await client.close({ timeout: 1000 });
  }
}

async function services(values: Values, positionals: string[]): Promise<number> {
  const [endpoint, ...names] = positionals;
  if (endpoint === undefined || names.length === 0) throw new UsageError("services needs ENDPOINT and at least one NAME");
  const client = await connect(values, endpoint);
  let missing = 0;
  try {
    for (const name of names) {
      const reply = await client.request("mmi.service", name, { retries: 0 });
      const code = reply[reply.length - 1].toString();
      if (code !== "200") missing++;
      process.stdout.write(values.json ? `${JSON.stringify({ service: name, code: Number(code) })}\n` : `${name} ${code}\n`);
    }
  } finally {
    await client.close({ timeout: 1000 });
  }
  return missing === 0 ? 0 : 1;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(argv: string[]): Promise<number> {
  const split = argv.indexOf("--");
  const own = split >= 0 ? argv.slice(0, split) : argv;
  const command = split >= 0 ? argv.slice(split + 1) : [];
  const [name, ...rest] = own;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (!(name in HELP)) throw new UsageError(`unknown command ${name}`);
  const { values, positionals } = parse(rest);
  if (values.help) {
    process.stdout.write(HELP[name]);
    return 0;
  }
  switch (name) {
    case "broker": return broker(values, positionals);
    case "worker": return worker(values, positionals, command);
    case "request": return request(values, positionals);
    default: return services(values, positionals);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS") === true;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`majordomo: ${message}\n${usage ? "Run 'majordomo --help' for usage.\n" : ""}`);
    process.exitCode = usage ? 2 : 1;
  },
);
