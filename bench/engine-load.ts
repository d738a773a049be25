/**
 * The load generator of the engine benchmark, run in a worker thread so that the server under test has the
 * main thread's event loop to itself. Each client is a raw DEALER: it says HELLO, waits for the answer,
 * then keeps `window` PINGs in flight and counts the answers until the deadline.
 *
 * @packageDocumentation
 */
import { parentPort, workerData } from "node:worker_threads";
import { Dealer } from "zeromq";

/** What the main thread asks for. */
export interface LoadRequest {
  readonly endpoint: string;
  readonly clients: number;
  readonly window: number;
  readonly durationMs: number;
  readonly hello: Uint8Array;
  readonly ping: Uint8Array;
}

/** What the worker reports. */
export interface LoadResult {
  readonly replies: number;
  readonly seconds: number;
}

async function client(request: LoadRequest, start: Promise<number>, deadline: () => number): Promise<number> {
  const socket = new Dealer({ linger: 0 });
  socket.connect(request.endpoint);
  try {
    await socket.send(Buffer.from(request.hello));
    await socket.receive();
    const began = await start;
    let inflight = 0;
    let replies = 0;
    let wake: (() => void) | undefined;
    const ping = Buffer.from(request.ping);
    const receiving = (async () => {
      while (Date.now() < deadline()) {
        await socket.receive();
        inflight--;
        replies++;
        wake?.();
      }
    })();
    while (Date.now() < deadline()) {
      if (inflight < request.window) {
        inflight++;
        await socket.send(ping);
      } else {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 5);
        });
        wake = undefined;
      }
    }
    socket.close();
    await receiving.catch(() => undefined);
    return began >= 0 ? replies : 0;
  } finally {
    if (!socket.closed) socket.close();
  }
}

async function main(request: LoadRequest): Promise<LoadResult> {
  // Every client first completes its handshake; the clock starts when all are ready.
  let release!: (time: number) => void;
  const start = new Promise<number>((resolve) => (release = resolve));
  let end = Number.POSITIVE_INFINITY;
  const results = Array.from({ length: request.clients }, () => client(request, start, () => end));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const began = Date.now();
  end = began + request.durationMs;
  release(began);
  const replies = (await Promise.all(results)).reduce((sum, count) => sum + count, 0);
  return { replies, seconds: request.durationMs / 1000 };
}

if (parentPort !== null) {
  main(workerData as LoadRequest).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
}
