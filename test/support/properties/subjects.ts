/**
 * Every generated codec, seen through one untyped interface so that schema-driven properties can drive them
 * all alike, next to the schema interpreter running on the same schema. A property that holds for both
 * `generated` and `interpreter` also shows the two implementations cannot drift apart.
 */
import * as benchMsg from "../../../generated/bench/bench_msg.js";
import * as fmqMsg from "../../../generated/filemq/fmq_msg.js";
import * as fmqMsgV2 from "../../../generated/filemq/fmq_msg_v2.js";
import * as mdp01ClientMsg from "../../../generated/majordomo/mdp01_client_msg.js";
import * as mdp01WorkerMsg from "../../../generated/majordomo/mdp01_worker_msg.js";
import * as mdpClientMsg from "../../../generated/majordomo/mdp_client_msg.js";
import * as mdpWorkerMsg from "../../../generated/majordomo/mdp_worker_msg.js";
import * as zprotoExample from "../../../generated/zproto_example/zproto_example.js";
import { decodeDynamic, encodeDynamic, type DynamicMessage } from "../../../runtime/wire/interpret.js";
import { toJsonForm, type JsonMessage } from "../../../runtime/wire/json.js";
import type { CodecSchema } from "../../../runtime/wire/schema.js";

/** One way of encoding and decoding messages of one model. */
export interface CodecUnderTest {
  /** "generated" or "interpreter", for failure messages. */
  readonly kind: "generated" | "interpreter";
  readonly schema: CodecSchema;
  encode(message: DynamicMessage): Buffer[];
  decode(frames: readonly Uint8Array[]): DynamicMessage;
  toJSON(message: DynamicMessage): JsonMessage;
}

/** The exports of a generated codec module that the properties use. */
interface GeneratedModule {
  readonly schema: CodecSchema;
  // `never` parameters accept each module's own message union; the properties build drafts from the schema,
  // which the typed unions cannot describe, so the casts below are where the two meet.
  readonly encode: (message: never) => Buffer[];
  readonly decode: (frames: readonly Uint8Array[]) => { readonly message: string };
  readonly toJSON: (message: never) => JsonMessage;
}

function generated(module: GeneratedModule): CodecUnderTest {
  return {
    kind: "generated",
    schema: module.schema,
    encode: (message) => module.encode(message as never),
    decode: (frames) => module.decode(frames) as unknown as DynamicMessage,
    toJSON: (message) => module.toJSON(message as never),
  };
}

function interpreter(schema: CodecSchema): CodecUnderTest {
  return {
    kind: "interpreter",
    schema,
    encode: (message) => encodeDynamic(schema, message),
    decode: (frames) => decodeDynamic(schema, frames),
    toJSON: (message) => toJsonForm(schema, message),
  };
}

/** A model with its generated codec and the interpreter on the generated codec's schema. */
export interface ModelUnderTest {
  readonly name: string;
  readonly schema: CodecSchema;
  readonly generated: CodecUnderTest;
  readonly interpreter: CodecUnderTest;
  /** Both, generated first. */
  readonly codecs: readonly [CodecUnderTest, CodecUnderTest];
}

const MODULES: readonly GeneratedModule[] = [
  zprotoExample, fmqMsg, fmqMsgV2, mdpClientMsg, mdpWorkerMsg, mdp01ClientMsg, mdp01WorkerMsg, benchMsg,
];

/** Every generated model. */
export const MODELS: readonly ModelUnderTest[] = MODULES.map((module) => {
  const pair: [CodecUnderTest, CodecUnderTest] = [generated(module), interpreter(module.schema)];
  return { name: module.schema.model, schema: module.schema, generated: pair[0], interpreter: pair[1], codecs: pair };
});
