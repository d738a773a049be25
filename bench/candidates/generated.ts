/**
 * The codec under test: `generated/bench/bench_msg.ts`, called as applications call it.
 *
 * @packageDocumentation
 */
import { decode, encode } from "../../generated/bench/bench_msg.js";
import type { Candidate } from "../harness.js";
import { sampleMessage } from "../sample.js";

const MESSAGE = sampleMessage();
const FRAMES = encode(MESSAGE);

/** The generated codec: `encode(msg): Buffer[]`, `decode(frames): BenchMsg`. */
export const generatedCandidate: Candidate = {
  name: "generated",
  configuration: "generated/bench/bench_msg.ts with runtime/wire; timestamp bigint, headers Map, payload Buffer view",
  loops: {
    encode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const frame = encode(MESSAGE)[0];
        sum = (sum + frame[frame.length - 1]) | 0;
      }
      return sum;
    },
    decode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = decode(FRAMES);
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
    roundtrip(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = decode(encode(MESSAGE));
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
  },
};
