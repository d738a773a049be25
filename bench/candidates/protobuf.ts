/**
 * protobufjs on the same data, through its reflection API with a schema parsed at runtime. Reflection
 * compiles a dedicated encoder and decoder per type on first use (protobufjs' own code generation), so this
 * is protobufjs at full speed, the same code paths as its static modules.
 *
 * @packageDocumentation
 */
import protobuf from "protobufjs";
import type { Candidate } from "../harness.js";
import { SAMPLE_VALUES } from "../sample.js";

/** The representative message as a protobuf schema; field types follow the zproto model. */
export const SAMPLE_PROTO = `
syntax = "proto3";
package bench;
message Sample {
  uint32 sequence = 1;
  uint64 timestamp = 2;
  uint32 flags = 3;
  string sender = 4;
  string topic = 5;
  bytes payload = 6;
  map<string, string> headers = 7;
}
`;

/** The message as protobufjs represents it: 64-bit numbers as `Long`, maps as plain objects. */
export interface ProtobufSample {
  sequence: number;
  timestamp: protobuf.Long;
  flags: number;
  sender: string;
  topic: string;
  payload: Uint8Array;
  headers: Record<string, string>;
}

/** The `bench.Sample` type, with its generated encoder and decoder. */
export const SampleType: protobuf.Type = protobuf.parse(SAMPLE_PROTO).root.lookupType("bench.Sample");

/** A u64 as an unsigned `Long` (the representation protobufjs reads and writes without conversion). */
export function toLong(value: bigint): protobuf.Long {
  return new protobuf.util.Long(Number(value & 0xffff_ffffn) | 0, Number(value >> 32n) | 0, true);
}

/** An unsigned `Long` back as a bigint. */
export function fromLong(value: protobuf.Long): bigint {
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

/** The representative message in protobufjs' native representation. */
export function protobufSample(): ProtobufSample {
  return {
    sequence: SAMPLE_VALUES.sequence,
    timestamp: toLong(SAMPLE_VALUES.timestamp),
    flags: SAMPLE_VALUES.flags,
    sender: SAMPLE_VALUES.sender,
    topic: SAMPLE_VALUES.topic,
    payload: SAMPLE_VALUES.payload,
    headers: Object.fromEntries(SAMPLE_VALUES.headers),
  };
}

/** Encodes with protobufjs; returns the octets. */
export function encodeProtobuf(message: ProtobufSample): Uint8Array {
  return SampleType.encode(message).finish();
}

/** Decodes with protobufjs. */
export function decodeProtobuf(bytes: Uint8Array): ProtobufSample {
  return SampleType.decode(bytes) as unknown as ProtobufSample;
}

const MESSAGE = protobufSample();
const BYTES = encodeProtobuf(MESSAGE);

/** protobufjs, measured like the zproto codecs. */
export const protobufCandidate: Candidate = {
  name: "protobufjs",
  configuration:
    "protobufjs reflection (runtime-compiled codec) from .proto text; timestamp as Long (no bigint conversion), " +
    "headers as plain object, payload Buffer; no UTF-8 validation on decode",
  loops: {
    encode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const bytes = SampleType.encode(MESSAGE).finish();
        sum = (sum + bytes[bytes.length - 1]) | 0;
      }
      return sum;
    },
    decode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = SampleType.decode(BYTES) as unknown as ProtobufSample;
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
    roundtrip(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = SampleType.decode(SampleType.encode(MESSAGE).finish()) as unknown as ProtobufSample;
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
  },
};
