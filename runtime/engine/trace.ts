/**
 * Message tracing: an engine option that sees every message an engine receives (once decoded) and sends
 * (before it is encoded), e.g. to log each in its readable ZPL form as a `--verbose` flag promises.
 */
import type { AnyMessage } from "../wire/codec.js";

/** Which way a traced message went. */
export type TraceDirection = "received" | "sent";

/**
 * Called with each message; `routingId` is the peer's on a server's ROUTER, absent on a client. A tracer
 * that throws is logged and ignored: tracing never changes what the engine does.
 */
export type MessageTracer = (direction: TraceDirection, message: AnyMessage, routingId?: Buffer) => void;
