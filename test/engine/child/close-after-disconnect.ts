/**
 * Child process of server-close.test.ts. Each round: a server starts, `peers` DEALERs say HELLO and get WORLD,
 * then they disconnect, the event loop is busy for `busyMs` (as on a loaded server), and the server closes.
 * With "server-first" the server closes before the peers disconnect instead (the control case). Prints
 * "survived" and exits 0 unless the process is aborted.
 *
 * Usage: close-after-disconnect.ts <rounds> <peer-first|server-first> <peers> <busyMs>
 */
import { Dealer } from "zeromq";
import { silentLogger } from "../../../runtime/engine/log.js";
import { ServerEngine } from "../../../runtime/engine/server.js";
import type { DynamicMessage } from "../../../runtime/wire/interpret.js";
import { loadMachine, type EngineFields, type ServerImpl } from "../support.js";

const rounds = Number(process.argv[2] ?? "80");
const serverFirst = process.argv[3] === "server-first";
const peerCount = Number(process.argv[4] ?? "5");
const busyMs = Number(process.argv[5] ?? "20");
const { table, codec } = loadMachine("plain_server.xml");

/** Keeps the thread busy: meanwhile ZeroMQ's application-side socket processes no commands. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

for (let round = 0; round < rounds; round++) {
  const impl: ServerImpl<object> = { createClient: () => ({}), greet: () => undefined };
  const server = new ServerEngine<DynamicMessage, EngineFields, string, object>(table, codec, impl, { logger: silentLogger });
  const endpoint = await server.bind("tcp://127.0.0.1:*");
  const peers = Array.from({ length: peerCount }, () => new Dealer({ linger: 0 }));
  await Promise.all(peers.map(async (peer) => {
    peer.connect(endpoint);
    await peer.send(codec.encode({ message: "HELLO", name: "x" }));
    await peer.receive();
  }));
  if (serverFirst) {
    busy(busyMs);
    await server.close();
    for (const peer of peers) peer.close();
  } else {
    for (const peer of peers) peer.close();
    busy(busyMs);
    await server.close();
  }
}
process.stdout.write("survived\n");
