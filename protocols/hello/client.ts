/**
 * The hand-written half of the hello client: connecting, greeting and telling the caller how it went.
 */
import type { CallOptions, ClientOptions } from "../../runtime/engine/index.js";
import { HelloClient, type HelloClientActions } from "../../generated/hello/hello_client.js";

/** Timing of the client's liveness checks. */
export interface HelloTiming {
  /** Send PING after this many ms (default 1000). */
  readonly heartbeat?: number;
  /** Consider the server gone after this many ms without a message (default 3000). */
  readonly expiry?: number;
}

/** What the client keeps. */
export interface HelloClientState {
  name: string;
}

/** The hello client's actions. */
export function helloClientActions(timing: HelloTiming = {}): HelloClientActions<HelloClientState> {
  return {
    createClient: () => ({ name: "" }),

    connectToServer(ctx) {
      ctx.client.name = ctx.args.name ?? "";
      ctx.connect(ctx.args.endpoint ?? "");
      ctx.setHeartbeat(timing.heartbeat ?? 1000);
      ctx.setExpiry(timing.expiry ?? 3000);
    },

    prepareHello(ctx) {
      ctx.outgoing.name = ctx.client.name;
    },

    useNewName(ctx) {
      ctx.client.name = ctx.args.name ?? ctx.client.name;
    },

    signalSuccess(ctx) {
      ctx.setConnected(true);
      ctx.reply("SUCCESS", { greeting: ctx.request?.message === "WORLD" ? ctx.request.greeting : "" });
    },

    signalFailure(ctx) {
      ctx.setConnected(false);
      ctx.reply("FAILURE", { reason: "the server did not answer" });
    },

    reconnectToServer(ctx) {
      ctx.log("info", "server silent: reconnecting");
      ctx.reconnect();
    },

    logUnexpectedMessage(ctx) {
      ctx.log("warn", `unexpected ${ctx.event} in state ${ctx.state}`);
    },
  };
}

/** Connects to a hello server and greets it; resolves once the server answered. */
export function connectHello(endpoint: string, name: string, options: ClientOptions & CallOptions & HelloTiming = {}): Promise<HelloClient<HelloClientState>> {
  return HelloClient.create(endpoint, name, helloClientActions(options), options);
}
