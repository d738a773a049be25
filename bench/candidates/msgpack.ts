/**
 * msgpackr on the same data. Configuration (chosen by measurement, see `bench/README.md`): one `Packr`
 * with the record extension and a shared `structures` list, which plays the part of the schema the other
 * codecs have: a message carries a one-octet structure reference instead of its key names.
 *
 * @packageDocumentation
 */
import { Packr } from "msgpackr";
import type { Candidate } from "../harness.js";
import { SAMPLE_VALUES } from "../sample.js";

/** The message as msgpackr carries it: the same types as the zproto codecs (bigint, Map, bytes). */
export interface MsgpackSample {
  sequence: number;
  timestamp: bigint;
  flags: number;
  sender: string;
  topic: string;
  payload: Uint8Array;
  headers: Map<string, string>;
}

/**
 * The packer and unpacker. `structures` is shared by both sides (here, one instance); uint64 values come
 * back as bigint, the default `int64AsType`.
 */
export const packr = new Packr({ structures: [] });

/** The representative message for msgpackr. */
export function msgpackSample(): MsgpackSample {
  return {
    sequence: SAMPLE_VALUES.sequence,
    timestamp: SAMPLE_VALUES.timestamp,
    flags: SAMPLE_VALUES.flags,
    sender: SAMPLE_VALUES.sender,
    topic: SAMPLE_VALUES.topic,
    payload: SAMPLE_VALUES.payload,
    headers: new Map(SAMPLE_VALUES.headers),
  };
}

/** Encodes with msgpackr. */
export function encodeMsgpack(message: MsgpackSample): Uint8Array {
  return packr.pack(message);
}

/** Decodes with msgpackr. */
export function decodeMsgpack(bytes: Uint8Array): MsgpackSample {
  return packr.unpack(bytes) as MsgpackSample;
}

const MESSAGE = msgpackSample();
const BYTES = encodeMsgpack(MESSAGE);

/** msgpackr, measured like the zproto codecs. */
export const msgpackCandidate: Candidate = {
  name: "msgpackr",
  configuration:
    "msgpackr Packr({ structures: [] }): record extension with shared structures; timestamp bigint (uint64), " +
    "headers Map (msgpack map), payload Buffer; unpack rejects trailing bytes, no NUL check",
  loops: {
    encode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const bytes = packr.pack(MESSAGE);
        sum = (sum + bytes[bytes.length - 1]) | 0;
      }
      return sum;
    },
    decode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = packr.unpack(BYTES) as MsgpackSample;
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
    roundtrip(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = packr.unpack(packr.pack(MESSAGE)) as MsgpackSample;
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
  },
};
