/**
 * Child process of lifecycle.test.ts: a server and a client talk, both close, and then work their actions
 * left running does everything an action can do to start something: arm each timer, connect, wake a context
 * that ended, monitor. None of it may outlive the close: the process must exit by itself. Prints "closed" once
 * both engines have closed.
 */
import { silentLogger } from "../../../runtime/engine/log.js";
import { ServerEngine } from "../../../runtime/engine/server.js";
import type { DynamicMessage } from "../../../runtime/wire/interpret.js";
import { TestClient, loadMachine, type ClientCtx, type Ctx, type EngineFields, type ServerImpl } from "../support.js";

const { table, codec } = loadMachine("plain_server.xml");
let serverCtx: Ctx<object> | undefined;
const impl: ServerImpl<object> = {
  createClient: () => ({}),
  greet(ctx) {
    serverCtx = ctx;
    ctx.reply.text = "hi";
  },
};
const server = new ServerEngine<DynamicMessage, EngineFields, string, object>(table, codec, impl, { logger: silentLogger });
const endpoint = await server.bind("tcp://127.0.0.1:*");

let clientCtx: ClientCtx<object> | undefined;
const client = new TestClient<object>("test_client.xml", {
  createClient: () => ({}),
  connectToServer(ctx) {
    clientCtx = ctx;
    ctx.connect(ctx.args.endpoint ?? "");
  },
  signalSuccess: (ctx) => ctx.reply("SUCCESS", { text: "" }),
}, { logger: silentLogger });
await client.start({ endpoint, heartbeat: 0, expiry: 0 });
while (serverCtx === undefined) await new Promise((resolve) => setTimeout(resolve, 10));

await client.close({ timeout: 1000 });
await server.close();
process.stdout.write("closed\n");

const lateClient = clientCtx as ClientCtx<object>;
const lateServer = serverCtx;
lateClient.setHeartbeat(50);
lateClient.setExpiry(50);
lateClient.wakeup(50, "fire");
lateClient.connect(endpoint);
lateClient.reconnect();
lateServer.wakeup(50, "alarm");
server.monitor(50, () => undefined);
