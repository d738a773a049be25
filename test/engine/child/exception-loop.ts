/**
 * Child process of server-async.test.ts: the action of the model's exception handler throws or rejects (or,
 * for the control case, succeeds).
 * One peer triggers it; another then pings. Prints "answered" once the other peer's PING is answered, then
 * exits 0. If the engine raises exception forever the event loop never gets to the answer (or to any timer),
 * and the parent's timeout kills this process.
 */
import { Dealer } from "zeromq";
import { silentLogger } from "../../../runtime/engine/log.js";
import { ServerEngine } from "../../../runtime/engine/server.js";
import type { DynamicMessage } from "../../../runtime/wire/interpret.js";
import { loadMachine, type EngineFields, type ServerImpl } from "../support.js";

/** "throw" or "reject": how the exception handler's action fails; "ok": it does not (the control case). */
const mode = process.argv[2] ?? "throw";
const { table, codec } = loadMachine("exception_loop_server.xml");
let failures = 0;
const impl: ServerImpl<object> = {
  createClient: () => ({}),
  work: () => {
    throw new Error("work failed");
  },
  cleanUp: () => {
    if (mode === "ok") return undefined;
    failures++;
    if (mode === "throw") throw new Error("clean up failed");
    return Promise.reject(new Error("clean up failed"));
  },
};
const server = new ServerEngine<DynamicMessage, EngineFields, string, object>(table, codec, impl, { logger: silentLogger });
const endpoint = await server.bind("tcp://127.0.0.1:*");
const trigger = new Dealer({ linger: 0 });
const other = new Dealer({ linger: 0 });
trigger.connect(endpoint);
other.connect(endpoint);
await trigger.send(codec.encode({ message: "WORK", delay: 0, text: "" }));
await new Promise((resolve) => setTimeout(resolve, 100));
await other.send(codec.encode({ message: "PING" }));
const [answer] = await other.receive();
process.stdout.write(`answered ${codec.decode([answer]).message} after ${failures} failures of the exception handler\n`);
await server.close();
trigger.close();
other.close();
