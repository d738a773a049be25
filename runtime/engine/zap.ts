/**
 * The ZAP handler (ZeroMQ RFC 27) engines share: libzmq asks whoever is bound to `inproc://zeromq.zap.01` in
 * a socket's context to decide each CURVE or PLAIN handshake. There is one handler per zeromq.js context, a
 * ROUTER so that slow verifications run side by side; it dispatches on the ZAP domain each server socket
 * sets, answers every request exactly once (500 when deciding failed), and closes when its last server
 * leaves.
 *
 * Installing a handler changes what libzmq does for every CURVE socket of the context, so a domain nobody
 * registered is answered as libzmq would answer without a handler: CURVE and NULL let in, PLAIN refused.
 */
import { Router, type Context } from "zeromq";
import { withDeadline } from "./deadline.js";
import { errorText } from "./errors.js";
import { RateLimiter, type LogFields, type LogLevel, type Logger } from "./log.js";
import { Outgoing } from "./outgoing.js";
import { bindRetrying, openSocket } from "./sockets.js";

/** One handshake to decide, as libzmq describes it. */
export interface ZapRequest {
  readonly domain: string;
  /** The peer's IP address. */
  readonly address: string;
  /** The peer's routing id, if it set one. */
  readonly identity: Buffer;
  /** `CURVE`, `PLAIN` or `NULL`. */
  readonly mechanism: string;
  /** CURVE: the client's 32-octet public key; PLAIN: user name and password. */
  readonly credentials: readonly Buffer[];
}

/** What a policy decided. */
export interface ZapDecision {
  readonly allowed: boolean;
  /** Who the peer is (a user name, a public key); libzmq attaches it to the connection. */
  readonly userId?: string;
}

/** How one domain's handshakes are decided. */
export interface ZapPolicy {
  /** The mechanism the domain's socket uses; a request with another one is refused. */
  readonly mechanism: "CURVE" | "PLAIN";
  /** How long one decision may take before the handshake is refused (ZAP 500); default {@link ZAP_DECISION_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  decide(request: ZapRequest): ZapDecision | Promise<ZapDecision>;
}

/** Where libzmq sends ZAP requests (RFC 27). */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
/** Handshakes being decided at once; more are answered 300 (temporary failure: the peer retries). */
const MAX_PENDING = 1024;
/**
 * How long one decision may take, unless its policy says otherwise, before it is answered 500: a verifier that
 * never settles would otherwise hold its place among the MAX_PENDING for good, and enough of them would
 * refuse every later handshake.
 */
export const ZAP_DECISION_TIMEOUT_MS = 10_000;

let domains = 0;

/** A ZAP domain no other server of this process uses, derived from the server's name. */
export function uniqueDomain(name: string): string {
  return `${name}#${++domains}`;
}

/** A context's handler and how many servers use it. */
interface Entry {
  readonly handler: Promise<ZapHandler>;
  users: number;
}

const entries = new Map<Context, Entry>();

/**
 * Makes the handler of `context` decide the handshakes of `domain` with `policy`, opening the handler if the
 * context has none. Resolves once the handler is bound (bind the server socket after that); rejects with a
 * `SocketError` when another ZAP handler holds the endpoint. Returns the function that unregisters.
 */
export async function registerZap(context: Context, domain: string, policy: ZapPolicy, logger: Logger): Promise<() => void> {
  let entry = entries.get(context);
  if (entry === undefined) {
    entry = { handler: ZapHandler.open(context, logger), users: 0 };
    entries.set(context, entry);
  }
  const current = entry;
  current.users++;
  const release = (): void => {
    if (--current.users > 0) return;
    if (entries.get(context) === current) entries.delete(context);
    current.handler.then((handler) => handler.close(), () => undefined);
  };
  let handler: ZapHandler;
  try {
    handler = await current.handler;
  } catch (error) {
    release();
    throw error;
  }
  handler.domains.set(domain, { policy, logger });
  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    handler.domains.delete(domain);
    release();
  };
}

/** The ROUTER that answers a context's ZAP requests. */
class ZapHandler {
  /** Each registered domain's policy, and the logger of the server that registered it. */
  readonly domains = new Map<string, { readonly policy: ZapPolicy; readonly logger: Logger }>();
  private readonly replies: Outgoing;
  private readonly limiter = new RateLimiter();
  private pending = 0;

  private constructor(
    private readonly socket: Router,
    /** For what concerns no domain: the logger of the server that opened the handler. */
    private readonly logger: Logger,
  ) {
    this.replies = new Outgoing(socket, MAX_PENDING * 2, (error) => {
      if (!socket.closed) logger.log("error", `ZAP reply not sent: ${errorText(error)}`);
    });
  }

  /** Opens and binds a handler in `context`; the handler closed a moment ago may still hold the endpoint. */
  static async open(context: Context, logger: Logger): Promise<ZapHandler> {
    const socket = openSocket(() => new Router({ context, linger: 0 }));
    try {
      await bindRetrying(socket, ZAP_ENDPOINT);
    } catch (error) {
      socket.close();
      throw error;
    }
    const handler = new ZapHandler(socket, logger);
    void handler.serve();
    return handler;
  }

  close(): void {
    this.replies.clear();
    this.socket.close();
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) this.answer(frames);
    } catch {
      // Closed.
    }
  }

  /** Answers one request: [routing id, delimiter, version, request id, domain, address, identity, mechanism, credentials...]. */
  private answer(frames: Buffer[]): void {
    const [routingId, delimiter, version, requestId, domain, address, identity, mechanism] = frames;
    if (frames.length < 8 || delimiter.length !== 0 || version.toString() !== "1.0") {
      // Not a ZAP 1.0 request: answer what can be answered, so that no handshake waits forever.
      if (frames.length >= 4) this.reply(routingId, requestId, "500", "malformed ZAP request");
      this.logger.log("error", "malformed ZAP request answered 500");
      return;
    }
    if (this.pending >= MAX_PENDING) {
      this.reply(routingId, requestId, "300", "busy");
      this.logFor(domain.toString(), "warn", "zap-busy", `ZAP handler busy: ${MAX_PENDING} handshakes being decided; asked a peer to retry`);
      return;
    }
    const request: ZapRequest = {
      domain: domain.toString(), address: address.toString(), identity, mechanism: mechanism.toString(), credentials: frames.slice(8),
    };
    const policy = this.domains.get(request.domain)?.policy;
    this.pending++;
    withDeadline("ZAP decision", policy?.timeoutMs ?? ZAP_DECISION_TIMEOUT_MS, async () => decide(policy, request)).then(
      (decision) => {
        this.reply(routingId, requestId, decision.allowed ? "200" : "400", decision.allowed ? "OK" : "not allowed", decision.userId ?? "");
        if (!decision.allowed) {
          this.logFor(request.domain, "info", "zap-refused", `handshake refused: ${request.mechanism} peer at ${request.address}`, { user: request.mechanism === "CURVE" ? decision.userId : undefined });
        }
      },
      (error: unknown) => {
        this.reply(routingId, requestId, "500", "internal error");
        // The error text is the verifier's; credentials are never part of what is logged here.
        this.logFor(request.domain, "error", "zap-failed", `handshake of the ${request.mechanism} peer at ${request.address} not decided (answered 500): ${errorText(error)}`);
      },
    ).finally(() => this.pending--);
  }

  private reply(routingId: Buffer, requestId: Buffer, status: string, text: string, userId = ""): void {
    if (this.socket.closed) return;
    this.replies.push([routingId, Buffer.alloc(0), Buffer.from("1.0"), requestId, Buffer.from(status), Buffer.from(text), Buffer.from(userId), Buffer.alloc(0)]);
  }

  /** Logs to the logger of the server that owns `domain`, at most a few records a second per kind. */
  private logFor(domain: string, level: LogLevel, key: string, message: string, fields?: LogFields): void {
    this.limiter.log(this.domains.get(domain)?.logger ?? this.logger, level, `${key} ${domain}`, message, fields);
  }
}

/** A domain's decision; a domain nobody registered is answered as libzmq answers without a handler. */
function decide(policy: ZapPolicy | undefined, request: ZapRequest): ZapDecision | Promise<ZapDecision> {
  if (policy === undefined) return { allowed: request.mechanism !== "PLAIN" };
  if (policy.mechanism !== request.mechanism) return { allowed: false };
  return policy.decide(request);
}
