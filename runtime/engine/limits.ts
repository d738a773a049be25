/**
 * The limits every engine puts on what a peer can make it hold (docs/limits.md): the largest frame a peer may
 * send, how many replies may wait for one peer, and how many of one peer's messages may wait for its actions.
 * Each has a default here and an option; the frame limit can also come from the model.
 */

/** Largest frame a peer may send, in octets, unless the model or the options say otherwise (1 MiB). */
export const DEFAULT_MAX_MESSAGE_SIZE = 1_048_576;
/** The smallest frame limit an engine accepts: ZMTP's handshake commands (READY, CURVE's INITIATE) must fit. */
export const MIN_MESSAGE_SIZE_LIMIT = 1024;
/** The largest frame limit an engine accepts (2^31 − 1 octets): zeromq.js 6.8.0 aborts on frames past 2^32. */
export const MAX_MESSAGE_SIZE_LIMIT = 2_147_483_647;
/** Replies queued for one peer of a server before it counts as not reading (libzmq's own default HWM). */
export const DEFAULT_PEER_SEND_LIMIT = 1000;
/** Messages of one peer waiting for the actions of its context before more are dropped. */
export const DEFAULT_CLIENT_QUEUE_LIMIT = 1000;

/** The largest count any limit takes (a 32-bit signed integer, as ZeroMQ's options are). */
const MAX_COUNT = 2_147_483_647;

/** Checks an integer option in `min..max`, naming it (and the value, never secret here) when it is not. */
export function checkLimit(option: string, value: number, min: number, max = MAX_COUNT): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${option} must be an integer from ${min} to ${max}, not ${value}`);
  }
  return value;
}

/** The frame limit of an engine: its option, else its model's `max_message_size`, else the default. */
export function frameLimit(option: number | undefined, model: number | undefined): number {
  return checkLimit("maxMessageSize", option ?? model ?? DEFAULT_MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE_LIMIT, MAX_MESSAGE_SIZE_LIMIT);
}
