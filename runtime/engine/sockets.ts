/**
 * Opening, binding and connecting ZeroMQ sockets so that failures surface at once, typed: zeromq.js throws
 * plain errno errors, and libzmq resolves a host name only when it connects, retrying forever in the
 * background, so an endpoint naming a host that does not exist would otherwise show only as a call that times
 * out.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { SocketError } from "./errors.js";

/** Creates a socket; ZeroMQ's refusal (`EMFILE` past the context's socket limit) becomes a {@link SocketError}. */
export function openSocket<S>(create: () => S): S {
  try {
    return create();
  } catch (error) {
    throw new SocketError("open", undefined, error);
  }
}

/** How long a bind waits for an address that a socket of this process closed a moment ago to be released. */
export const BIND_RETRY_MS = 2000;

/**
 * Binds, retrying until `deadline` (ms since the epoch) while the address is in use: a server restarting in
 * the same process finds its port (or the ZAP endpoint) still held for a moment by the socket it closed.
 * Resolves with the endpoint bound, as ZeroMQ reports it (the port `:*` picked). Other failures, and an address
 * still in use at the deadline, reject with a {@link SocketError}; each refusal that is retried goes to
 * `retrying`, so that a caller whose own timeout runs out first can say why.
 *
 * Each attempt binds synchronously: zeromq.js blocks a socket for the whole of an asynchronous bind, and a
 * send or receive meanwhile throws EBUSY, which would drop a message and end a serving socket's receive
 * loop; a second bind meanwhile would fail the same way. For the same reason the endpoint bound is read at
 * once, before another bind can change `lastEndpoint`. A bind is local and quick (a host name in it is
 * resolved by the system's resolver).
 */
export async function bindRetrying(
  socket: { bindSync(endpoint: string): void; readonly lastEndpoint: string | null }, endpoint: string, deadline = Date.now() + BIND_RETRY_MS,
  retrying?: (error: SocketError) => void,
): Promise<string> {
  for (;;) {
    try {
      socket.bindSync(endpoint);
      return socket.lastEndpoint ?? endpoint;
    } catch (error) {
      const refused = new SocketError("bind", endpoint, error);
      if (refused.code !== "EADDRINUSE" || Date.now() > deadline || endpoint.endsWith(":*")) throw refused;
      retrying?.(refused);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Connects a socket; an endpoint ZeroMQ cannot parse (`foo`, `""`) becomes a {@link SocketError}. */
export function connectSocket(socket: { connect(endpoint: string): void }, endpoint: string): void {
  try {
    socket.connect(endpoint);
  } catch (error) {
    throw new SocketError("connect", endpoint, error);
  }
}

/** The host a `tcp://` endpoint names, when it is a name rather than an address or a wildcard. */
export function tcpHostName(endpoint: string): string | undefined {
  const match = /^tcp:\/\/(?:[^;]*;)?(.+):[^:\]]+$/.exec(endpoint);
  if (match === null) return undefined;
  const host = match[1].replace(/^\[(.*)\]$/, "$1");
  return host === "*" || isIP(host) !== 0 ? undefined : host;
}

/**
 * Resolves the host name of a `tcp://` endpoint, as libzmq will; rejects with a {@link SocketError}
 * (`ENOTFOUND`, ...) when it does not resolve. Other endpoints resolve at once.
 */
export async function checkResolvable(endpoint: string): Promise<void> {
  const host = tcpHostName(endpoint);
  if (host === undefined) return;
  try {
    await lookup(host);
  } catch (error) {
    throw new SocketError("connect", endpoint, error);
  }
}
