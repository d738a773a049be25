/**
 * Message tracing: an engine option that sees every message an engine receives (once decoded) and sends
 * (once encoded), e.g. to log each in its readable ZPL form as a `--verbose` flag promises.
 */
import type { AnyMessage } from "../wire/codec.js";

/** Which way a traced message went. */
export type TraceDirection = "received" | "sent";

/**
 * Called with each message; `routingId` is the peer's on a server's ROUTER, absent on a client. A tracer
 * that throws is logged and changes nothing else.
 */
export type MessageTracer = (direction: TraceDirection, message: AnyMessage, routingId?: Buffer) => void;

/** The tracer an engine calls: the user's, with what it throws handed to `failed` (undefined without one). */
export function guardedTracer(tracer: MessageTracer | undefined, failed: (error: unknown) => void): MessageTracer | undefined {
  if (tracer === undefined) return undefined;
  return (direction, message, routingId) => {
    try {
      tracer(direction, message, routingId);
    } catch (error) {
      failed(error);
    }
  };
}
