/**
 * The server a hostile-peer measurement attacks, in a process of its own so that its memory and its event
 * loop are measured alone: `node hostile-server.js <kind> <options>` with kind `hello` (the generated hello
 * server, options as JSON ServerOptions) or `router` (a bare zeromq.js ROUTER that echoes one-frame messages:
 * what libzmq and zeromq.js cost with no engine at all). It prints `READY <endpoint>` and answers `stats`
 * requests on its IPC channel with its longest event-loop stall and its memory.
 *
 * `HOSTILE_RUNTIME` may name another build's output directory (one holding `protocols/hello/server.js`),
 * so that the same measurement can be taken of an earlier version of the engine.
 *
 * @packageDocumentation
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Router } from "zeromq";
import type { ServerOptions } from "../runtime/engine/server.js";
import { BYSTANDER } from "./hostile.js";

/** A request from the measuring process. */
export interface StatsRequest {
  readonly type: "stats";
  /** Collect garbage first (the process runs with --expose-gc). */
  readonly gc: boolean;
}

/** What the server reports. */
export interface ServerStats {
  /** Longest event-loop delay since start, in ms. */
  readonly maxStallMs: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
  /** Messages served so far: HELLOs greeted (but the bystander's, see hostile.ts), or one-frame messages echoed. */
  readonly served: number;
}

const MIB = 1024 * 1024;
let served = 0;

/** What the hello modules of a build offer (typed loosely: the build may be an earlier one). */
type Actions = Record<string, (ctx: unknown) => unknown>;
interface HelloModules {
  readonly actions: Actions;
  readonly Server: new (actions: Actions, options: ServerOptions) => { bind(endpoint: string): Promise<string> };
  readonly logger: ServerOptions["logger"];
}

async function helloModules(runtime: string): Promise<HelloModules> {
  const [protocol, generated, log] = await Promise.all([
    import(`${runtime}/protocols/hello/server.js`) as Promise<{ helloServerActions: Actions }>,
    import(`${runtime}/generated/hello/hello_server.js`) as Promise<{ HelloServer: HelloModules["Server"] }>,
    import(`${runtime}/runtime/engine/log.js`) as Promise<{ silentLogger: ServerOptions["logger"] }>,
  ]);
  return { actions: protocol.helloServerActions, Server: generated.HelloServer, logger: log.silentLogger };
}

/** The hello server of the build at `runtime`, counting the HELLOs it greets. */
async function startHello(options: ServerOptions): Promise<string> {
  const { actions, Server, logger } = await helloModules(process.env.HOSTILE_RUNTIME ?? new URL("..", import.meta.url).pathname);
  const counted: Actions = {
    ...actions,
    greetTheClient(ctx) {
      if ((ctx as { request: { name: string } }).request.name !== BYSTANDER) served++;
      return actions.greetTheClient(ctx);
    },
  };
  return new Server(counted, { logger, ...options }).bind("tcp://127.0.0.1:*");
}

async function startRouter(): Promise<string> {
  const router = new Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  void (async () => {
    for await (const frames of router) {
      if (frames.length !== 2) continue;
      served++;
      await router.send(frames);
    }
  })();
  return router.lastEndpoint ?? "";
}

async function main(): Promise<void> {
  const [kind, options] = process.argv.slice(2);
  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  const endpoint = kind === "router" ? await startRouter() : await startHello(JSON.parse(options ?? "{}") as ServerOptions);
  process.on("message", (request: StatsRequest) => {
    if (request.gc) (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const stats: ServerStats = {
      maxStallMs: Math.round(stalls.max / 1e6),
      rssMiB: Math.round(memory.rss / MIB),
      heapUsedMiB: Math.round(memory.heapUsed / MIB),
      externalMiB: Math.round(memory.external / MIB),
      served,
    };
    process.send?.(stats);
  });
  console.log(`READY ${endpoint}`);
}

void main();
