/**
 * The broker under test in the Majordomo benchmark, run as a child process (`fork`) so that its CPU and
 * memory are its own: `ours` is the MDP/0.1 broker of protocols/majordomo, `raw` a minimal ROUTER relay on
 * zeromq.js that forwards the same traffic (READY, client request → worker, REPLY → client) with no checks,
 * no heartbeats and no state machine: the ceiling of any broker on this runtime. The parent talks to it
 * over IPC: it answers with `{ endpoint }` once bound, `{ rss, cpuMicros }` (its CPU time so far) when asked
 * "stats", and exits on "stop".
 *
 * @packageDocumentation
 */
import { Router } from "zeromq";
import { createBroker } from "../protocols/majordomo/broker.js";
import { silentLogger } from "../runtime/engine/log.js";
import { Outgoing } from "../runtime/engine/outgoing.js";

/** A running broker. */
interface Running {
  readonly endpoint: string;
  stop(): Promise<void>;
}

const CLIENT = Buffer.from("MDPC01");
const WORKER = Buffer.from("MDPW01");
const EMPTY = Buffer.alloc(0);
const REQUEST = Buffer.of(2);
const READY = 1;
const REPLY = 3;

async function ours(): Promise<Running> {
  const broker = createBroker({ logger: silentLogger });
  const endpoint = await broker.bind("tcp://127.0.0.1:*");
  return { endpoint, stop: () => broker.close() };
}

/**
 * The raw relay: idle workers FIFO, pending requests FIFO. Sends go through the same send queue as the
 * engines' (zeromq.js allows one send in progress per socket), so the receive loop never waits for one and
 * the comparison measures what the broker does between receiving and sending, not how it sends.
 */
async function raw(): Promise<Running> {
  const router = new Router({ linger: 0, sendHighWaterMark: 0 });
  await router.bind("tcp://127.0.0.1:*");
  const outgoing = new Outgoing(router, 100_000, () => undefined);
  const idle: Buffer[] = [];
  const pending: Buffer[][] = [];
  const services = new Map<string, Buffer>();
  const dispatch = (worker: Buffer): void => {
    const request = pending.shift();
    if (request === undefined) idle.push(worker);
    else outgoing.push([worker, EMPTY, WORKER, REQUEST, request[0], EMPTY, ...request.slice(1)]);
  };
  const loop = (async () => {
    try {
      for await (const [sender, , header, ...rest] of router) {
        if (header.equals(CLIENT)) {
          pending.push([sender, ...rest.slice(1)]);
          const worker = idle.shift();
          if (worker !== undefined) dispatch(worker);
        } else if (rest[0][0] === READY) {
          services.set(sender.toString("latin1"), rest[1]);
          dispatch(sender);
        } else if (rest[0][0] === REPLY) {
          outgoing.push([rest[1], EMPTY, CLIENT, services.get(sender.toString("latin1")) ?? EMPTY, ...rest.slice(3)]);
          dispatch(sender);
        }
      }
    } catch {
      // closed
    }
  })();
  return {
    endpoint: router.lastEndpoint ?? "",
    stop: async () => {
      router.close();
      await loop;
    },
  };
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  const running = kind === "ours" ? await ours() : kind === "raw" ? await raw() : undefined;
  if (running === undefined) throw new Error(`usage: majordomo-broker.js ours|raw`);
  process.on("message", (message) => {
    if (message === "stats") {
      const cpu = process.cpuUsage();
      process.send?.({ rss: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system });
    }
    if (message === "stop") void running.stop().then(() => process.exit(0));
  });
  process.send?.({ endpoint: running.endpoint });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
