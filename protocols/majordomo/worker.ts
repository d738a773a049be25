/**
 * The Majordomo worker: the actions of the worker model (models/majordomo/mdp01_worker.xml) and the
 * {@link Worker} API. The handler runs without holding the machine up: heartbeats go on while it works,
 * and its result comes back as an event (`handler done` or `handler failed`).
 */
import { checkTimeout, type CallOptions, type CloseOptions } from "../../runtime/engine/index.js";
import type { ClientOptions } from "../../runtime/engine/client.js";
import { Mdp01Worker, type Mdp01WorkerActions, type Mdp01WorkerContext } from "../../generated/majordomo/mdp01_worker.js";
import { toFrames, type BodyInput } from "./body.js";
import { checkServiceName, isMmiService } from "./service-name.js";

/** How long a closing worker's last messages may wait for a connection to the broker (see {@link Worker.close}). */
export const DISCONNECT_WAIT_MS = 1000;

/** Timing of a worker; the broker must use the same heartbeat interval. */
export interface WorkerTiming {
  /** ms between HEARTBEATs (default 2500, as the Guide's). */
  readonly heartbeat?: number;
  /** Heartbeat intervals of silence after which the broker counts as gone (default 3). */
  readonly liveness?: number;
  /** ms to wait before registering again after DISCONNECT or silence (default 2500). */
  readonly reconnect?: number;
  /** Longest wait: the wait doubles after each registration that heard nothing back (default 30 000). */
  readonly maxReconnect?: number;
}

/** What a request handler is told besides the body. */
export interface RequestInfo {
  readonly service: string;
}

/**
 * Answers one request: returns (or resolves to) the reply body. A handler that throws or rejects answers
 * nothing; the worker says DISCONNECT and READY again, and the broker gives the request to another worker
 * or drops it (broker/redeliver).
 */
export type WorkerHandler = (body: Uint8Array[], request: RequestInfo) => BodyInput | Promise<BodyInput>;

/** Options of {@link Worker.start}. */
export interface WorkerOptions extends ClientOptions, WorkerTiming {}

/** What the worker's actions keep. */
export interface WorkerState {
  /** The current job; a handler result for an older one (dropped by a reconnect) is ignored. */
  job: number;
  /** The client address of the request being handled. */
  address: Buffer | undefined;
  result: Buffer[] | undefined;
  failure: unknown;
  /** Heard from the broker since the last READY: a reconnect then waits the shortest time. */
  heard: boolean;
  /** Registrations in a row that heard nothing back. */
  failures: number;
  /** When the wait before registering again ends. */
  reconnectAt: number;
  ticker: NodeJS.Timeout | undefined;
}

type Context = Mdp01WorkerContext<WorkerState>;

const DEFAULT_TIMING: Required<WorkerTiming> = { heartbeat: 2500, liveness: 3, reconnect: 2500, maxReconnect: 30_000 };

/** Checks a timing and fills in the defaults; throws RangeError for values that cannot work. */
export function workerTiming(timing: WorkerTiming = {}): Required<WorkerTiming> {
  const full = { ...DEFAULT_TIMING, ...timing };
  checkTimeout("heartbeat", full.heartbeat);
  checkTimeout("reconnect", full.reconnect);
  checkTimeout("maxReconnect", full.maxReconnect);
  if (!Number.isInteger(full.liveness) || full.liveness < 1) throw new RangeError(`liveness must be a whole number of heartbeats from 1, not ${full.liveness}`);
  checkTimeout("heartbeat × liveness", full.heartbeat * full.liveness);
  return full;
}

function stopTicker(state: WorkerState): void {
  clearInterval(state.ticker);
  state.ticker = undefined;
}

/** The worker's actions for one service and handler. */
export function workerActions(service: string, handler: WorkerHandler, timing: Required<WorkerTiming>): Mdp01WorkerActions<WorkerState> {
  /** Starts heartbeats for a new registration and fills in READY. */
  const register = (ctx: Context): void => {
    const state = ctx.client;
    state.heard = false;
    stopTicker(state);
    state.ticker = setInterval(() => ctx.engine.sendEvent("send_heartbeat"), timing.heartbeat);
    ctx.outgoing.service = service;
  };

  return {
    createClient: () => ({ job: 0, address: undefined, result: undefined, failure: undefined, heard: false, failures: 0, reconnectAt: 0, ticker: undefined }),

    terminated: (ctx) => stopTicker(ctx.client),

    connectToBroker(ctx) {
      ctx.connect(ctx.args.endpoint ?? "");
      register(ctx);
    },

    signalSuccess(ctx) {
      ctx.reply("SUCCESS", {});
    },

    watchBroker(ctx) {
      ctx.setExpiry(timing.heartbeat * timing.liveness);
    },

    startHandler(ctx) {
      // Brokers send busy workers nothing: liveness is watched again once the work is done.
      ctx.setExpiry(0);
      const state = ctx.client;
      const job = ++state.job;
      state.heard = true;
      state.address = Buffer.from(ctx.request.client);
      const body = ctx.request.body;
      const finish = (event: "handler_done" | "handler_failed", result: Buffer[] | undefined, failure: unknown): void => {
        if (state.job !== job) return;
        state.result = result;
        state.failure = failure;
        ctx.engine.sendEvent(event);
      };
      // Not awaited: the machine goes on (heartbeats, DISCONNECT) while the handler works.
      void Promise.resolve()
        .then(() => handler(body, { service }))
        .then((reply) => finish("handler_done", toFrames(reply), undefined))
        .catch((error: unknown) => finish("handler_failed", undefined, error));
    },

    prepareReply(ctx) {
      const state = ctx.client;
      ctx.outgoing.client = state.address ?? Buffer.alloc(0);
      ctx.outgoing.body = state.result ?? [Buffer.alloc(0)];
      state.address = state.result = undefined;
    },

    logHandlerFailure(ctx) {
      const failure = ctx.client.failure;
      ctx.log("warn", `handler for ${service} failed, the request is not answered: ${failure instanceof Error ? failure.message : String(failure)}`);
      ctx.client.address = ctx.client.failure = undefined;
    },

    prepareReady(ctx) {
      ctx.client.heard = false;
      ctx.outgoing.service = service;
    },

    noteBrokerAlive(ctx) {
      ctx.client.heard = true;
    },

    dropConnection(ctx) {
      const state = ctx.client;
      state.job++;
      stopTicker(state);
      ctx.setExpiry(0);
      state.failures = state.heard ? 0 : state.failures + 1;
      const wait = Math.min(timing.reconnect * 2 ** state.failures, timing.maxReconnect);
      state.reconnectAt = Date.now() + wait;
      ctx.log("info", `${ctx.event === "disconnect" ? "broker said DISCONNECT" : "broker silent"}: registering ${service} again in ${wait} ms`);
      // A new socket now: whatever the broker still sends to the old one is gone with it.
      ctx.reconnect();
    },

    waitToReconnect(ctx) {
      ctx.wakeup(Math.max(0, ctx.client.reconnectAt - Date.now()), "reconnect");
    },

    reconnectToBroker(ctx) {
      register(ctx);
    },

    logUnexpectedMessage(ctx) {
      ctx.log("warn", `${ctx.event} is not expected in state ${ctx.state}: ignored`);
    },
  };
}

/**
 * A Majordomo worker: offers one service at a broker and answers its requests with a handler. It
 * heartbeats, notices a dead or restarted broker and registers again by itself.
 */
export class Worker {
  private constructor(private readonly engine: Mdp01Worker<WorkerState>, readonly service: string) {}

  /**
   * Connects to the broker at `endpoint`, registers `service` and serves requests with `handler` until
   * closed. Throws RangeError for a service name a broker would refuse (empty, not printable, `mmi.*`).
   */
  static async start(endpoint: string, service: string, handler: WorkerHandler, options: WorkerOptions & CallOptions = {}): Promise<Worker> {
    checkServiceName(service);
    if (isMmiService(service)) throw new RangeError(`service ${service}: mmi.* services are the broker's own`);
    const engine = await Mdp01Worker.create(endpoint, service, workerActions(service, handler, workerTiming(options)), options);
    return new Worker(engine, service);
  }

  /** `ready`, `working`, `disconnected` (waiting to register again), ... */
  get state(): string {
    return this.engine.state;
  }

  /**
   * Lets a running handler finish and answer, says DISCONNECT and closes; bounded by the timeout. The
   * answer and the DISCONNECT get {@link DISCONNECT_WAIT_MS} of it to go out (`sendTimeout`): over a live
   * connection they go at once, and a broker that is gone takes neither.
   */
  close(options: CloseOptions = {}): Promise<void> {
    return this.engine.close({ sendTimeout: DISCONNECT_WAIT_MS, ...options });
  }
}
