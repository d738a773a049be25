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

/** The most octets WORLD's greeting carries: it is a `string`. */
const GREETING_OCTETS = 255;

/**
 * `Hello, NAME!` within the octets a greeting carries: a name of up to 255 octets (all HELLO carries) would
 * not fit with the words around it, so a long one is cut, at a character boundary, and marked with `…`.
 */
export function greeting(words: string, name: string): string {
  const whole = `${words}, ${name}!`;
  if (Buffer.byteLength(whole) <= GREETING_OCTETS) return whole;
  let room = GREETING_OCTETS - Buffer.byteLength(`${words}, …!`);
  let kept = "";
  for (const character of name) {
    room -= Buffer.byteLength(character);
    if (room < 0) break;
    kept += character;
  }
  return `${words}, ${kept}…!`;
}

/** The hello server's actions. */
export const helloServerActions: HelloServerActions<HelloSession> = {
  createClient: () => ({ name: "", greetings: 0 }),

  greetTheClient(ctx) {
    ctx.client.name = ctx.request.name;
    ctx.client.greetings++;
    ctx.reply.greeting = greeting(ctx.client.greetings === 1 ? "Hello" : "Hello again", ctx.request.name);
  },

  refuseTheCommand(ctx) {
    ctx.reply.reason = `${ctx.request.message} is not expected in state ${ctx.state}`;
  },
};

/** A hello server with these actions. */
export function createHelloServer(options: ServerOptions = {}): HelloServer<HelloSession> {
  return new HelloServer(helloServerActions, options);
}
