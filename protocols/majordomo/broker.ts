/**
 * The Majordomo broker (MDP/0.1 with MMI): the actions of the broker model (models/majordomo/mdp01_broker.xml)
 * and the factory that runs them. Each peer has its own machine; the broker-wide rules are the
 * {@link Dispatcher}'s, and a monitor runs its periodic work every `broker/heartbeat` ms.
 */
import { RateLimiter } from "../../runtime/engine/log.js";
import type { ServerOptions } from "../../runtime/engine/server.js";
import { Broker, type BrokerActions, type BrokerContext } from "../../generated/majordomo/mdp01_broker.js";
import { Dispatcher, peerName, type ServiceSnapshot, type WorkerEntry } from "./dispatcher.js";
import { isMmiService, isValidServiceName } from "./service-name.js";
import { brokerSettings, type BrokerSettings } from "./settings.js";

/** What the broker keeps per peer: nothing for a client, its registration for a worker. */
export interface Peer {
  worker: WorkerEntry | undefined;
}

type Context = BrokerContext<Peer>;

/** The registration of the worker whose machine runs an action (only worker states run such actions). */
function workerOf(ctx: Context): WorkerEntry {
  const worker = ctx.client.worker;
  if (worker === undefined) throw new Error(`peer ${peerName(ctx.routingId)} in state ${ctx.state} is not a registered worker`);
  return worker;
}

/** A peer's role, for logs. */
function role(ctx: Context): string {
  return ctx.client.worker !== undefined ? `worker for ${ctx.client.worker.service.name}` : ctx.state === "client" ? "client" : "new peer";
}

/** The broker's actions, around one dispatcher. */
export function brokerActions(dispatcher: Dispatcher, onSettings: (settings: BrokerSettings) => void = () => {}): BrokerActions<Peer> {
  // Per kind for the whole broker, not per peer: a peer that breaks the protocol is forgotten, and each of
  // its next messages starts a new session.
  const limiter = new RateLimiter();
  /** Logs a warning about a peer's message, at most a few times a second per kind. */
  const warn = (ctx: Context, kind: string, message: string): void => {
    const { allowed, suppressed } = limiter.allow(kind);
    if (allowed) ctx.log("warn", message, { peer: peerName(ctx.routingId), ...(suppressed > 0 ? { suppressed } : {}) });
  };

  return {
    createClient: () => ({ worker: undefined }),

    clientTerminated(ctx, ending) {
      const worker = ctx.client.worker;
      if (worker === undefined) return;
      // A WORKER REQUEST that found the worker gone (or not reading) never reached it: the request was not
      // delivered, and goes back to its queue without counting toward broker/redeliver.
      const undelivered = (ending.reason === "disconnected" || ending.reason === "not reading") && ending.undelivered.message === "WORKER_REQUEST";
      dispatcher.remove(worker, worker.state === "busy" ? "gone" : "left", undelivered);
    },

    serverConfigured(tree) {
      const settings = brokerSettings(tree);
      dispatcher.configure(settings);
      onSettings(settings);
    },

    serverTerminated() {
      dispatcher.close();
    },

    acceptRequest(ctx) {
      const { service, body } = ctx.request;
      if (!isValidServiceName(service)) {
        warn(ctx, "bad-service", "request for a service name that is empty or not printable: dropped");
        return;
      }
      if (isMmiService(service)) ctx.send("REQUEST", { service, body: dispatcher.mmi(service, body) });
      else dispatcher.request(ctx.routingId, service, body);
    },

    registerWorker(ctx) {
      const service = ctx.request.service;
      if (!isValidServiceName(service) || isMmiService(service)) {
        warn(ctx, "bad-ready", `READY for service ${JSON.stringify(service)} refused: ${isMmiService(service) ? "mmi.* services are the broker's own" : "not a printable name"}`);
        ctx.raise("protocol_error");
        return;
      }
      ctx.client.worker = dispatcher.register(ctx.routingId, service, (event) => ctx.server.sendEvent(ctx, event));
    },

    waitForRequest(ctx) {
      dispatcher.waiting(workerOf(ctx));
    },

    prepareRequest(ctx) {
      const request = dispatcher.deliver(workerOf(ctx));
      // Only a worker deleted while its dispatch was on the way has none: its machine ends it too.
      if (request === undefined) {
        ctx.raise("worker_expired");
        return;
      }
      ctx.reply.client = request.client;
      ctx.reply.body = request.body;
    },

    forwardReply(ctx) {
      const worker = workerOf(ctx);
      const request = dispatcher.replied(worker, ctx.request.client);
      if (request === undefined) {
        warn(ctx, "bad-reply", `REPLY for client ${peerName(Buffer.from(ctx.request.client))}, which this worker does not serve: worker disconnected`);
        ctx.raise("protocol_error");
        return;
      }
      ctx.server.sendTo(request.client, { message: "REQUEST", service: worker.service.name, body: ctx.request.body });
    },

    noteWorkerAlive(ctx) {
      dispatcher.heartbeat(workerOf(ctx));
    },

    logMalformedMessage(ctx) {
      warn(ctx, "malformed", `malformed message from ${role(ctx)}: ${ctx.error?.message ?? "unknown error"}`);
    },

    logUnexpectedMessage(ctx) {
      const what = ctx.request !== undefined && ctx.event === ctx.request.message.toLowerCase() ? ctx.request.message : ctx.event;
      warn(ctx, "unexpected", `${what} from ${role(ctx)} is not expected in state ${ctx.state}`);
    },
  };
}

/**
 * A Majordomo broker: one ROUTER for clients and workers. Bind it with `bind(endpoint)` or
 * `broker/bind/endpoint` in its configuration (section `broker`, see docs/majordomo.md), and `close()` it.
 */
export class MajordomoBroker extends Broker<Peer> {
  private readonly dispatcher: Dispatcher;
  private stopTicking: (() => void) | undefined;
  private tickEvery = 0;

  constructor(options: ServerOptions = {}) {
    let self: MajordomoBroker | undefined;
    const dispatcher = new Dispatcher((level, message, fields) => self?.logger.log(level, message, fields));
    super(brokerActions(dispatcher, (settings) => self?.tickAt(settings.heartbeat)), options);
    self = this;
    this.dispatcher = dispatcher;
  }

  /** The settings in force. */
  get settings(): BrokerSettings {
    return this.dispatcher.settings;
  }

  /** The services the broker knows: queued requests, registered and idle workers. */
  services(): ServiceSnapshot[] {
    return this.dispatcher.snapshot();
  }

  /** Stops the broker; what it still holds is dropped (one warning says how many requests). */
  override async close(): Promise<void> {
    this.stopTicking?.();
    this.stopTicking = undefined;
    // First, so that the workers' contexts ending with the server do not hand their requests on.
    this.dispatcher.close();
    await super.close();
  }

  /** (Re)starts the periodic work at the heartbeat interval. */
  private tickAt(ms: number): void {
    if (this.stopTicking !== undefined && ms === this.tickEvery) return;
    this.stopTicking?.();
    this.tickEvery = ms;
    this.stopTicking = this.monitor(ms, () => this.dispatcher.tick());
  }
}

/** A Majordomo broker with these options; `start()` or `bind()` it. */
export function createBroker(options: ServerOptions = {}): MajordomoBroker {
  return new MajordomoBroker(options);
}
