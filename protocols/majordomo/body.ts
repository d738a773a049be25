/**
 * Request and reply bodies. MDP carries a body as one frame or more; the APIs take frames, and a string or
 * a single buffer where one frame is meant.
 */

/** A body as the APIs accept it: frames, or one frame as a string (UTF-8) or bytes. */
export type BodyInput = string | Uint8Array | readonly (string | Uint8Array)[];

function frame(part: string | Uint8Array): Buffer {
  if (typeof part === "string") return Buffer.from(part, "utf8");
  if (part instanceof Uint8Array) return Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
  throw new TypeError(`a body frame is a string or a Uint8Array, not ${typeof part}`);
}

/**
 * The frames of a body. MDP needs at least one frame, so an empty list becomes one empty frame. Throws
 * TypeError for anything that is not a string, bytes or a list of them.
 */
export function toFrames(body: BodyInput): Buffer[] {
  if (typeof body === "string" || body instanceof Uint8Array) return [frame(body)];
  if (!Array.isArray(body)) throw new TypeError(`a body is a string, a Uint8Array or a list of them, not ${typeof body}`);
  return body.length === 0 ? [Buffer.alloc(0)] : body.map(frame);
}
