/**
 * Reads the golden wire vectors captured from the C codecs (test/fixtures/vectors, `spec/wire.md` §12)
 * and says what our strict decoder must make of each record.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { MalformedKind } from "../../runtime/wire/errors.js";
import type { CodecSchema, FieldSchema } from "../../runtime/wire/schema.js";

export const VECTOR_DIR = fileURLToPath(new URL("../fixtures/vectors/", import.meta.url));

/** The C-captured models and the model files that describe them. */
export const VECTOR_MODELS = {
  zproto_example: "models/zproto_example/zproto_example.xml",
  fmq_msg: "models/filemq/fmq_msg.xml",
  fmq_msg_v2: "models/filemq/fmq_msg_v2.xml",
  mdp_client_msg: "models/majordomo/mdp_client_msg.xml",
  mdp_worker_msg: "models/majordomo/mdp_worker_msg.xml",
} as const;

export type VectorModel = keyof typeof VECTOR_MODELS;

export interface VectorRecord {
  readonly model: string;
  readonly message?: string;
  readonly base_message?: string;
  readonly id?: number;
  readonly case: string;
  readonly expect: "ok" | "error";
  readonly fields?: Record<string, unknown>;
  readonly frames: string[];
  readonly note?: string;
}

/** Every record of a model's vector files (main and truncations). */
export function readVectors(model: VectorModel): VectorRecord[] {
  return ["", ".truncations"].flatMap((suffix) =>
    readFileSync(`${VECTOR_DIR}${model}${suffix}.jsonl`, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as VectorRecord),
  );
}

export function framesOf(record: VectorRecord): Buffer[] {
  return record.frames.map((frame) => Buffer.from(frame, "hex"));
}

/** Positives: a message with fields that must encode to exactly its frames. */
export function isPositive(record: VectorRecord): boolean {
  return record.expect === "ok" && record.message !== undefined && record.fields !== undefined;
}

/** The error kinds our decoder may report for a negative record (`spec/wire.md` §12.4). */
export function expectedKinds(record: VectorRecord): MalformedKind[] {
  const name = record.case;
  if (name.startsWith("truncated-")) return ["Truncated", "Overrun"];
  if (name === "trailing-bytes") return ["TrailingBytes"];
  if (name === "extra-frame") return ["UnexpectedFrame"];
  if (name === "missing-frames" || name === "missing-frame") return ["MissingFrame"];
  if (name.startsWith("length-overflow-") || name.startsWith("count-overflow-")) return ["Overrun"];
  if (name.startsWith("bad-constant") || name.startsWith("bad-version-") || name === "v2-ohai" || name === "version-as-number2") return ["BadConstant"];
  if (name.startsWith("bad-signature") || name === "signature-byteswapped") return ["BadSignature"];
  if (name.startsWith("unknown-id-")) return ["UnknownId"];
  if (["signature-only", "one-byte", "empty-frame", "leading-empty-frame"].includes(name)) return ["Truncated"];
  if (name.startsWith("dict-entry-no-equals-")) return ["InvalidEntry"];
  if (name === "dict-duplicate-key") return ["DuplicateKey"];
  if (name === "string-embedded-nul") return ["InvalidText"];
  throw new Error(`no expectation for vector case ${name}`);
}

/** A JSON field value as a decoder yields it: `null` (never set) replaced by what its bytes decode to. */
export function normaliseField(field: FieldSchema, value: unknown): unknown {
  if (value !== null) return value;
  switch (field.type) {
    case "string": case "longstr": case "chunk": case "frame": return "";
    case "strings": case "shortstrings": case "hash": case "dictionary": return [];
    case "uuid": return "0".repeat(32);
    case "octets": return "00".repeat(field.size ?? 0);
    case "msg": return [""];
    default: return value;
  }
}

/** The expected JSON fields of a positive record, normalised per `spec/wire.md` §11. */
export function expectedFields(schema: CodecSchema, record: VectorRecord): Record<string, unknown> {
  const message = schema.messages.find((candidate) => candidate.name === record.message || candidate.key === record.message);
  if (message === undefined) throw new Error(`vector names unknown message ${record.message}`);
  const fields: Record<string, unknown> = {};
  for (const field of message.fields) {
    if (field.value !== undefined) continue;
    fields[field.name] = normaliseField(field, (record.fields ?? {})[field.name] ?? null);
  }
  return fields;
}
