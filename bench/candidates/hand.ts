/**
 * The hand-written codec (`bench/hand-codec.ts`): the same bytes and contract as the generated one.
 *
 * @packageDocumentation
 */
import { decodeSample, encodeSample } from "../hand-codec.js";
import type { Candidate } from "../harness.js";
import { sampleMessage } from "../sample.js";

const MESSAGE = sampleMessage();
const FRAMES = encodeSample(MESSAGE);

/** The hand-written codec, measured exactly like the generated one. */
export const handCandidate: Candidate = {
  name: "hand",
  configuration: "bench/hand-codec.ts; same message representation and checks as generated",
  loops: {
    encode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const frame = encodeSample(MESSAGE)[0];
        sum = (sum + frame[frame.length - 1]) | 0;
      }
      return sum;
    },
    decode(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = decodeSample(FRAMES);
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
    roundtrip(iterations) {
      let sum = 0;
      for (let i = 0; i < iterations; i++) {
        const message = decodeSample(encodeSample(MESSAGE));
        sum = (sum + message.sequence + message.topic.length + message.payload.length) | 0;
      }
      return sum;
    },
  },
};
