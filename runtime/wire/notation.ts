/**
 * How bytes and numbers are spelt in the text forms of messages (the JSON form, the ZPL form, the command
 * line): bytes as hex, lowercase on the way out and either case on the way in; numbers as unsigned decimal
 * without a sign or leading zeros, in the full 64-bit range and beyond (range is the encoder's check).
 */
import { Buffer } from "node:buffer";

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Lowercase hex of `bytes`, two digits an octet. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * The octets `text` spells, two hex digits (either case) an octet, or `undefined` when it is anything else:
 * `Buffer.from(text, "hex")` would silently stop at the first bad digit.
 */
export function hexToBytes(text: string): Buffer | undefined {
  return HEX.test(text) ? Buffer.from(text, "hex") : undefined;
}

/** The value of an unsigned decimal numeral (`0`, `42`, no sign, no leading zeros), or `undefined`. */
export function decimalToBigint(text: string): bigint | undefined {
  return DECIMAL.test(text) ? BigInt(text) : undefined;
}
