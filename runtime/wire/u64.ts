/**
 * Unsigned 64-bit big-endian numbers moved through a scratch cell seen both as a bigint and as octets.
 * Moving a `number 8` value through a BigUint64Array element takes a few nanoseconds; splitting it with
 * `>> 32n` / `& 0xffffffffn` (each of which allocates a BigInt) or `Buffer#readBigUInt64BE` /
 * `writeBigUInt64BE` costs several times that.
 *
 * The cell's layout constants are module constants of this module on purpose: the optimising compiler
 * folds a module's own constants into the code of its functions, not constants imported from elsewhere.
 */
import { endianness } from "node:os";

/** The cell. Only ever used within one call of the functions below. */
const CELL = new BigUint64Array(1);
/** The cell's octets, in platform order. */
const CELL_OCTETS = new Uint8Array(CELL.buffer);
/** The cell's two 32-bit halves, in platform order. */
const CELL_HALVES = new Uint32Array(CELL.buffer);
const LITTLE_ENDIAN = endianness() === "LE";
/** Index in {@link CELL_OCTETS} of the most significant octet. */
const MSB = LITTLE_ENDIAN ? 7 : 0;
/** Step from one octet of {@link CELL_OCTETS} to the next less significant one. */
const STEP = LITTLE_ENDIAN ? -1 : 1;
/** Index in {@link CELL_HALVES} of the more significant half. */
const HIGH = LITTLE_ENDIAN ? 1 : 0;

/** Writes `value`, already known to be in 0..2^64-1, as 8 big-endian octets at `at` of `view`. */
export function setUint64(view: DataView, at: number, value: bigint): void {
  CELL[0] = value;
  view.setUint32(at, CELL_HALVES[HIGH]);
  view.setUint32(at + 4, CELL_HALVES[1 - HIGH]);
}

/** The 8 big-endian octets at `at`, which the caller checked are there. */
export function readUint64(buffer: Buffer, at: number): bigint {
  for (let i = 0, to = MSB; i < 8; i++, to += STEP) CELL_OCTETS[to] = buffer[at + i];
  return CELL[0];
}
