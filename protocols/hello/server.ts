/**
 * The hand-written half of the hello server: what it does on HELLO and on commands it refuses. The state
 * machine, the codec and the engine are generated from models/hello/.
 */
import type { ServerOptions } from "../../runtime/engine/index.js";
import { HelloServer, type HelloServerActions } from "../../generated/hello/hello_server.js";

/** What the server remembers of each connected client. */
export interface HelloSession {
  /** The name the client last greeted with. */
  name: string;
  /** How many times it said HELLO. */
  greetings: number;
}

/** The hello server's actions. */
export const helloServerActions: HelloServerActions<HelloSession> = {
  createClient: () => ({ name: "", greetings: 0 }),

  greetTheClient(ctx) {
    ctx.client.name = ctx.request.name;
    ctx.client.greetings++;
    ctx.reply.greeting = ctx.client.greetings === 1 ? `Hello, ${ctx.request.name}!` : `Hello again, ${ctx.request.name}!`;
  },

  refuseTheCommand(ctx) {
    ctx.reply.reason = `${ctx.request.message} is not expected in state ${ctx.state}`;
  },
};

/** A hello server with these actions. */
export function createHelloServer(options: ServerOptions = {}): HelloServer<HelloSession> {
  return new HelloServer(helloServerActions, options);
}
