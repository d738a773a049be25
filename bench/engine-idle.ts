/**
 * What idle clients cost the generated hello server: ten thousand peers each complete a HELLO/WORLD session
 * over inproc, then stay silent; the server's CPU time over a quiet period and its heap growth per client
 * are recorded. Idle contexts hold memory (their state and one expiry timer), not CPU.
 *
 * @packageDocumentation
 */
import { Dealer, context } from "zeromq";
import { encode } from "../generated/hello/hello_msg.js";
import { createHelloServer } from "../protocols/hello/server.js";
import { silentLogger } from "../runtime/engine/log.js";

/** What {@link measureIdle} found. */
export interface IdleResult {
  readonly clients: number;
  readonly heapBytesPerClient: number;
  readonly idleSeconds: number;
  /** Server process CPU time while every client was idle, as a share of one core. */
  readonly idleCpuShare: number;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function heapUsed(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

/** Connects `clients` silent sessions to a hello server and measures what they cost while idle. */
export async function measureIdle(clients = 10_000, idleMs = 2000): Promise<IdleResult> {
  if (context.maxSockets < clients + 64) throw new Error(`raise zeromq's context.maxSockets above ${clients} before opening any socket`);
  const server = createHelloServer({ logger: silentLogger });
  const endpoint = `inproc://zproto-bench-idle-${process.pid}`;
  await server.bind(endpoint);
  const hello = encode({ message: "HELLO", name: "idle" })[0];
  const sockets: Dealer[] = [];
  try {
    await settle(100);
    const before = heapUsed();
    for (let start = 0; start < clients; start += 500) {
      const batch = Array.from({ length: Math.min(500, clients - start) }, () => {
        const socket = new Dealer({ linger: 0 });
        socket.connect(endpoint);
        sockets.push(socket);
        return socket.send(hello).then(() => socket.receive());
      });
      await Promise.all(batch);
    }
    if (server.clientCount !== clients) throw new Error(`expected ${clients} sessions, the server has ${server.clientCount}`);
    const after = heapUsed();
    await settle(200);
    const cpu = process.cpuUsage();
    const began = performance.now();
    await settle(idleMs);
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - began) / 1000;
    return {
      clients,
      // The peers live in this process too; their sockets are native objects, so the heap growth is the server's.
      heapBytesPerClient: Math.round((after - before) / clients),
      idleSeconds: seconds,
      idleCpuShare: (used.user + used.system) / 1e6 / seconds,
    };
  } finally {
    for (const socket of sockets) socket.close();
    await server.close();
  }
}
