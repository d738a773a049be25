/**
 * The representative message every candidate encodes: two numbers, a 64-bit timestamp, flags, two short
 * strings, a 32-octet payload and a two-entry hash.
 *
 * @packageDocumentation
 */
import { sample, type Sample } from "../generated/bench/bench_msg.js";

/** Field values of the representative message, in a codec-neutral form. */
export const SAMPLE_VALUES = {
  sequence: 123_456,
  timestamp: 1_700_000_000_123_456_789n,
  flags: 3,
  sender: "sensor-17",
  topic: "weather/berlin",
  /** 32 octets with a pattern, so that a codec which dropped or shifted them would be noticed. */
  payload: Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff)),
  headers: [
    ["unit", "celsius"],
    ["source", "station-4"],
  ] as const,
} as const;

/** The representative message as the zproto codecs (generated and hand-written) take it. */
export function sampleMessage(): Sample {
  return sample({
    sequence: SAMPLE_VALUES.sequence,
    timestamp: SAMPLE_VALUES.timestamp,
    flags: SAMPLE_VALUES.flags,
    sender: SAMPLE_VALUES.sender,
    topic: SAMPLE_VALUES.topic,
    payload: SAMPLE_VALUES.payload,
    headers: new Map(SAMPLE_VALUES.headers),
  });
}
