/**
 * The Majordomo client, one request at a time: the actions of the client model
 * (models/majordomo/mdp01_client.xml) and the {@link Client} API with retries, AbortSignal and a
 * {@link RequestTimeout} that says why no reply came.
 */
import { MethodFailed, TimeoutError, checkTimeout, type CallOptions } from "../../runtime/engine/index.js";
import type { ClientOptions } from "../../runtime/engine/client.js";
import { Mdp01Client, type Mdp01ClientActions, type Mdp01ClientContext } from "../../generated/majordomo/mdp01_client.js";
import { toFrames, type BodyInput } from "./body.js";
import { checkServiceName, isMmiService } from "./service-name.js";

/** What the client's actions keep: the request outstanding. */
export interface ClientState {
  service: string;
  body: Uint8Array[];
  timeout: number;
  retries: number;
  /** Attempts made so far. */
  attempt: number;
  /** When the current attempt times out. */
  deadline: number;
}

type Context = Mdp01ClientContext<ClientState>;

/** Sends the outstanding request (again) and arms the attempt's timer. */
function sendAttempt(ctx: Context): void {
  const state = ctx.client;
  state.deadline = Date.now() + state.timeout;
  ctx.wakeup(state.timeout, "attempt_timeout");
  ctx.outgoing.service = state.service;
  ctx.outgoing.body = state.body;
}

/** The client's actions. */
export function clientActions(): Mdp01ClientActions<ClientState> {
  return {
    createClient: () => ({ service: "", body: [], timeout: 0, retries: 0, attempt: 0, deadline: 0 }),

    connectToBroker(ctx) {
      ctx.connect(ctx.args.endpoint ?? "");
    },

    signalSuccess(ctx) {
      ctx.reply("SUCCESS", {});
    },

    startRequest(ctx) {
      const state = ctx.client;
      state.service = ctx.args.service ?? "";
      state.body = ctx.args.body ?? [];
      state.timeout = ctx.args.timeout ?? 2500;
      state.retries = ctx.args.retries ?? 0;
      state.attempt = 1;
      sendAttempt(ctx);
    },

    checkReply(ctx) {
      if (ctx.request.service !== ctx.client.service) ctx.raise("stray_reply");
    },

    signalReply(ctx) {
      ctx.reply("REPLY", { body: ctx.request.body });
    },

    dropStrayReply(ctx) {
      ctx.log("debug", `reply from service ${JSON.stringify(ctx.request?.service)} dropped: no request for it is outstanding`);
    },

    keepWaiting(ctx) {
      ctx.wakeup(Math.max(0, ctx.client.deadline - Date.now()), "attempt_timeout");
    },

    retryOrGiveUp(ctx) {
      const state = ctx.client;
      if (state.attempt > state.retries) {
        ctx.raise("give_up");
        return;
      }
      state.attempt++;
      // A new socket: a late reply to an earlier attempt cannot reach it.
      ctx.reconnect();
      sendAttempt(ctx);
    },

    reconnectToBroker(ctx) {
      ctx.reconnect();
    },

    signalTimeout(ctx) {
      ctx.reply("TIMEOUT", { attempts: ctx.client.attempt });
    },

    logUnexpectedMessage(ctx) {
      ctx.log("warn", `${ctx.event} is not expected in state ${ctx.state}: ignored`);
    },
  };
}

/** Why a request got no reply; see {@link RequestTimeout}. */
export type TimeoutReason = "no-worker" | "no-reply" | "no-broker";

/**
 * A request got no reply after every attempt (MDP has no error replies). The client then asks the broker
 * (`mmi.service`, one attempt) whether the service has a live worker, so the error says which case it is:
 * `no-worker` (the broker answers 404: nothing serves the name, and the broker dropped the request when it
 * expired), `no-reply` (a worker serves it but no reply came in time: slow, or it died holding the request
 * and redelivery did not help), or `no-broker` (the broker did not answer either).
 */
export class RequestTimeout extends TimeoutError {
  constructor(
    readonly service: string,
    readonly reason: TimeoutReason,
    /** Attempts made, each waiting `attemptTimeout` ms. */
    readonly attempts: number,
    readonly attemptTimeout: number,
  ) {
    super(`request to ${service}`, attempts * attemptTimeout);
    this.name = "RequestTimeout";
    const tries = `${attempts} attempt${attempts === 1 ? "" : "s"} of ${attemptTimeout} ms`;
    this.message = reason === "no-worker" ? `no worker offers service "${service}" (the broker says 404; ${tries})`
      : reason === "no-reply" ? `service "${service}" did not reply (${tries}; the broker says it has a worker)`
      : `no answer from the broker for service "${service}" (${tries})`;
  }
}

/** Defaults of every request of a client. */
export interface RequestDefaults {
  /** ms each attempt waits for the reply (default 2500, as the Guide's client). */
  readonly timeout?: number;
  /** Attempts after the first, each on a new socket (default 3). */
  readonly retries?: number;
}

/** Options of one request. */
export interface RequestOptions extends RequestDefaults {
  readonly signal?: AbortSignal;
}

/** Options of {@link Client.connect}. */
export type MajordomoClientOptions = Omit<ClientOptions, "timeout"> & RequestDefaults;

/** Beyond the attempts' own timers, how long a request waits for its machine before it gives up. */
const CALL_SLACK_MS = 1000;
/** The longest the MMI question after a timeout waits. */
const PROBE_MS = 1000;

/** Checks a retries count. */
function checkRetries(retries: number): number {
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be a whole number from 0, not ${retries}`);
  return retries;
}

/**
 * A Majordomo client with one request outstanding at a time (calls made meanwhile wait their turn). For
 * many requests in flight, see `AsyncClient`.
 */
export class Client {
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(private readonly engine: Mdp01Client<ClientState>, private readonly defaults: Required<RequestDefaults>) {}

  /** A client of the broker at `endpoint`. */
  static async connect(endpoint: string, options: MajordomoClientOptions = {}): Promise<Client> {
    const { timeout = 2500, retries = 3, ...engineOptions } = options;
    const defaults = { timeout: checkTimeout("timeout", timeout), retries: checkRetries(retries) };
    return new Client(await Mdp01Client.create(endpoint, clientActions(), engineOptions), defaults);
  }

  /**
   * Sends `body` to `service` and resolves with the reply's frames. Each attempt waits `timeout` ms, then
   * the client sends again on a new socket, `retries` times; finally it rejects with {@link RequestTimeout}.
   * With a `signal`, rejects with its reason when aborted. Replies that name another service, and late
   * replies, are dropped.
   */
  request(service: string, body: BodyInput, options: RequestOptions = {}): Promise<Buffer[]> {
    let run: () => Promise<Buffer[]>;
    try {
      checkServiceName(service);
      const frames = toFrames(body);
      const timeout = checkTimeout("timeout", options.timeout ?? this.defaults.timeout);
      const retries = checkRetries(options.retries ?? this.defaults.retries);
      run = () => this.send(service, frames, timeout, retries, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = this.turn.then(run, run);
    this.turn = result.catch(() => undefined);
    return result;
  }

  /** Closes the socket; a request still waiting rejects with `EngineClosed`. */
  close(options: CallOptions = {}): Promise<void> {
    return this.engine.close(options);
  }

  private async send(service: string, body: Buffer[], timeout: number, retries: number, signal: AbortSignal | undefined): Promise<Buffer[]> {
    const attempts = retries + 1;
    try {
      const reply = await this.engine.sendRequest(service, body, timeout, retries, { timeout: attempts * timeout + CALL_SLACK_MS, ...(signal ? { signal } : {}) });
      return reply.map((frame) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
    } catch (error) {
      if (error instanceof MethodFailed && error.reply === "TIMEOUT") throw new RequestTimeout(service, await this.why(service), attempts, timeout);
      // The caller gave up (abort) before the machine did: it lets go of the request, on a new socket.
      this.engine.sendEvent("abandon");
      if (error instanceof TimeoutError) throw new RequestTimeout(service, "no-broker", attempts, timeout);
      throw error;
    }
  }

  /** Asks the broker whether a live worker offers `service` (one attempt, at most {@link PROBE_MS}). */
  private async why(service: string): Promise<TimeoutReason> {
    if (isMmiService(service)) return "no-broker";
    try {
      const answer = await this.engine.sendRequest("mmi.service", [Buffer.from(service)], PROBE_MS, 0, { timeout: PROBE_MS + CALL_SLACK_MS });
      return Buffer.from(answer[answer.length - 1]).toString() === "404" ? "no-worker" : "no-reply";
    } catch {
      return "no-broker";
    }
  }
}
