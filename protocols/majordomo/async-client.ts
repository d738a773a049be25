/**
 * The asynchronous Majordomo client: many requests in flight, replies in the order they complete. The
 * actions of models/majordomo/mdp01_async_client.xml and the {@link AsyncClient} API.
 *
 * MDP/0.1 cannot tell which request a reply answers: there is no id on the wire. Replies come named by
 * service only, in completion order; a reply for a service with no request outstanding is dropped.
 */
import { EngineClosed, type CallOptions } from "../../runtime/engine/index.js";
import type { ClientOptions } from "../../runtime/engine/client.js";
import { Mdp01AsyncClient, type Mdp01AsyncClientActions } from "../../generated/majordomo/mdp01_async_client.js";
import type { Mdp01ClientMsg } from "../../generated/majordomo/mdp01_client_msg.js";
import { toFrames, type BodyInput } from "./body.js";
import { checkServiceName } from "./service-name.js";

/** A reply: the service that answered and the body. */
export interface Reply {
  readonly service: string;
  readonly body: Buffer[];
}

/** What the actions and the API share: requests outstanding per service. */
export interface AsyncClientState {
  readonly outstanding: Map<string, number>;
}

/** The asynchronous client's actions around one shared state. */
export function asyncClientActions(state: AsyncClientState): Mdp01AsyncClientActions<AsyncClientState> {
  return {
    createClient: () => state,

    connectToBroker(ctx) {
      ctx.connect(ctx.args.endpoint ?? "");
    },

    signalSuccess(ctx) {
      ctx.reply("SUCCESS", {});
    },

    deliverReply(ctx) {
      const { service, body } = ctx.request;
      const waiting = state.outstanding.get(service) ?? 0;
      if (waiting === 0) {
        ctx.log("debug", `reply from service ${JSON.stringify(service)} dropped: no request for it is outstanding`);
        return;
      }
      if (waiting === 1) state.outstanding.delete(service);
      else state.outstanding.set(service, waiting - 1);
      ctx.deliver("REQUEST", { service, body });
    },

    logUnexpectedMessage(ctx) {
      ctx.log("warn", `${ctx.event} is not expected in state ${ctx.state}: ignored`);
    },
  };
}

function toReply(message: Mdp01ClientMsg): Reply {
  return { service: message.service, body: message.body.map((frame) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)) };
}

/**
 * A Majordomo client with many requests in flight. `send` returns at once; `recv` and `replies()` give the
 * replies in the order they arrive (see the module comment: MDP/0.1 cannot correlate them). There are no
 * retries: a request whose reply does not come is simply missing, and `recv` times out.
 */
export class AsyncClient {
  private closed = false;

  private constructor(private readonly engine: Mdp01AsyncClient<AsyncClientState>, private readonly state: AsyncClientState) {}

  /** A client of the broker at `endpoint`. */
  static async connect(endpoint: string, options: ClientOptions & CallOptions = {}): Promise<AsyncClient> {
    const state: AsyncClientState = { outstanding: new Map() };
    return new AsyncClient(await Mdp01AsyncClient.create(endpoint, asyncClientActions(state), options), state);
  }

  /** Requests sent whose replies have not come. */
  get outstanding(): number {
    let count = 0;
    for (const waiting of this.state.outstanding.values()) count += waiting;
    return count;
  }

  /**
   * Sends a request now, without waiting for its reply. Throws RangeError for a service name the broker
   * would drop, TypeError for a body that is not frames, `EngineClosed` once the client is closed, and
   * `SendQueueFull` when `sendQueueLimit` requests (10 000 by default) already wait to go out; a request that
   * throws is not sent and not counted in `outstanding`. Pace a large batch by its replies.
   */
  send(service: string, body: BodyInput): void {
    checkServiceName(service);
    const frames = toFrames(body);
    if (this.closed) throw new EngineClosed("send");
    // Counted only once queued: a request the full send queue refuses throws here.
    this.engine.sendRequest({ service, body: frames });
    this.state.outstanding.set(service, (this.state.outstanding.get(service) ?? 0) + 1);
  }

  /** The next reply; rejects with `TimeoutError` after the timeout (default 5000 ms) and `EngineClosed` on close. */
  async recv(options: CallOptions = {}): Promise<Reply> {
    return toReply(await this.engine.recv(options));
  }

  /** Replies as they come, until the client closes. */
  async *replies(): AsyncGenerator<Reply, void, undefined> {
    for await (const message of this.engine.messages()) yield toReply(message);
  }

  /** Closes the socket; replies still to come are lost. */
  close(options: CallOptions = {}): Promise<void> {
    // Refused from now on, before the body is encoded, with an EngineClosed that names `send`.
    this.closed = true;
    return this.engine.close(options);
  }
}
