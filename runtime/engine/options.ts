/**
 * What servers and clients are configured with in common, and how both call the user's callbacks: what a
 * callback throws is logged, never let through.
 */
import type { Context } from "zeromq";
import type { ConfigSource } from "./config.js";
import { errorText, type ActionFailed } from "./errors.js";
import type { Logger } from "./log.js";
import type { MessageTracer } from "./trace.js";

/** Options every engine takes. */
export interface EngineOptions {
  /** Configuration: a ZPL tree, a ZPL file or path/value pairs. */
  readonly config?: ConfigSource;
  /** Trace every state, event and action (also `server/verbose = 1` or `client/verbose = 1`). */
  readonly verbose?: boolean;
  /** Where the engine's log lines go (default: one line per record on stderr). */
  readonly logger?: Logger;
  /**
   * Messages that may wait to be handed to ZeroMQ. On a server (default 100 000, to all peers together) a
   * message past it is dropped, with a rate-limited warning. On a client (default 10 000; they wait there
   * until a connection to the server is up) a message past it is refused: the send throws `SendQueueFull`, so
   * an action that sends fails (the model's `exception` event, a waiting call rejected with the
   * `ActionFailed`) and a `<send>` method throws to its caller. A whole number, at least 1 (else a
   * `RangeError` from the constructor).
   */
  readonly sendQueueLimit?: number;
  /**
   * Largest frame the peer may send, in octets (ZMQ_MAXMSGSIZE): a peer announcing a larger frame is
   * disconnected at its header, before its data arrives. Default: the model's `max_message_size`, else 1 MiB;
   * from 1024 to 2^31 − 1.
   */
  readonly maxMessageSize?: number;
  /**
   * The zeromq.js context of the engine's sockets (default: zeromq's global context). Its `maxSockets` is the
   * process's socket limit (1,023 in libzmq's default); see docs/limits.md.
   */
  readonly context?: Context;
  /**
   * Called with every action failure, modelled (`exception`) or not, after it was logged: the way to make
   * them fail tests. What it throws is logged.
   */
  readonly onActionFailed?: (failure: ActionFailed) => void;
  /** Sees every message received (once decoded) and sent (once encoded), with the peer's routing id on a server. */
  readonly traceMessages?: MessageTracer;
}

/**
 * Calls a user callback (a hook, `onActionFailed`) so that what it throws is logged, after `what`, and goes no
 * further: a user's bug must not stop an engine's receive loop or leave an event half run.
 */
export function guarded(logger: Logger, what: string, callback: () => void): void {
  try {
    callback();
  } catch (error) {
    logger.log("error", `${what}: ${errorText(error)}`);
  }
}
