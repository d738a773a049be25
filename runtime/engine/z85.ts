/**
 * Z85 (ZeroMQ RFC 32), the text form of CURVE keys: 4 octets become 5 printable characters, so a 32-octet key
 * is 40 characters. zeromq.js creates keys in this form but offers no way to convert them, and the ZAP handler
 * receives a client's key as 32 raw octets, so the runtime converts both ways.
 */

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DIGITS = new Map([...ALPHABET].map((character, index) => [character, index]));

/** The Z85 text of `octets`; their count must be a multiple of 4. */
export function z85Encode(octets: Uint8Array): string {
  if (octets.length % 4 !== 0) throw new RangeError(`Z85 encodes groups of 4 octets, not ${octets.length}`);
  let text = "";
  for (let i = 0; i < octets.length; i += 4) {
    let value = ((octets[i] << 24) | (octets[i + 1] << 16) | (octets[i + 2] << 8) | octets[i + 3]) >>> 0;
    let group = "";
    for (let digit = 0; digit < 5; digit++) {
      group = ALPHABET[value % 85] + group;
      value = Math.floor(value / 85);
    }
    text += group;
  }
  return text;
}

/** The octets Z85 `text` stands for, or undefined when it is not Z85 (length not a multiple of 5, a foreign character, a group above 2^32-1). */
export function z85Decode(text: string): Buffer | undefined {
  if (text.length % 5 !== 0) return undefined;
  const octets = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let digit = 0; digit < 5; digit++) {
      const index = DIGITS.get(text[i + digit]);
      if (index === undefined) return undefined;
      value = value * 85 + index;
    }
    if (value > 0xffffffff) return undefined;
    octets.writeUInt32BE(value, (i / 5) * 4);
  }
  return octets;
}

/** Whether `text` is a CURVE key: 40 Z85 characters standing for 32 octets. */
export function isCurveKey(text: unknown): text is string {
  return typeof text === "string" && text.length === 40 && z85Decode(text) !== undefined;
}
