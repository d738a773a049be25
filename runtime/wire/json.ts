/**
 * The JSON form of a message (`spec/wire.md` §11): field keys are the normalised model names, 8-octet
 * numbers are decimal strings, bytes are lowercase hex, maps are `[key, value]` pairs in wire order, and
 * `null` means "never set" where the type has a "never set" (not numbers, octets or strings, whose unset value
 * is 0, zero octets or ""; strings do in Guide-era codecs). Used by the test vectors, `zproto encode|decode
 * --jsonl` and fixtures.
 */
import { findMessage, type CodecSchema, type FieldSchema } from "./schema.js";
import type { DynamicMessage } from "./interpret.js";
import { bytesToHex, decimalToBigint, hexToBytes } from "./notation.js";

/** A JSON value as `JSON.parse` yields it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A message in JSON form. */
export interface JsonMessage {
  model?: string;
  message: string;
  id?: number;
  topic?: string;
  fields: Record<string, Json>;
}

/** Thrown when a JSON record does not describe a message of the schema. */
export class JsonFormError extends Error {
  constructor(
    readonly model: string,
    readonly messageName: string | null,
    readonly field: string | null,
    detail: string,
  ) {
    super(`${model}: ${messageName !== null ? messageName + (field !== null ? "." + field : "") + ": " : ""}${detail}`);
    this.name = "JsonFormError";
  }
}

/** Renders a decoded (or constructed) message in JSON form. Constant fields are omitted. */
export function toJsonForm(schema: CodecSchema, message: DynamicMessage): JsonMessage {
  const found = findMessage(schema, message.message);
  if (found === undefined) throw new JsonFormError(schema.model, null, null, `unknown message ${JSON.stringify(message.message)}`);
  const fields: Record<string, Json> = {};
  for (const field of found.fields) {
    if (field.value !== undefined) continue;
    fields[field.name] = fieldToJson(field, message[field.key]);
  }
  const json: JsonMessage = { model: schema.model, message: found.name, id: found.id, fields };
  if (message.topic !== undefined) json.topic = message.topic;
  return json;
}

/**
 * JSON form of one field value. `undefined` (never set) becomes `null` where the type allows it, else the
 * type's unset value (0, `"0"`, zero octets, `""`), so the output is always valid JSON form.
 */
export function fieldToJson(field: FieldSchema, value: unknown): Json {
  if (value === undefined) {
    switch (field.type) {
      case "number": return field.size === 8 ? "0" : 0;
      case "octets": return "00".repeat(field.size ?? 0);
      case "string": return "";
      default: return null;
    }
  }
  switch (field.type) {
    case "number": return field.size === 8 ? String(value) : (value as number);
    case "octets": case "uuid": case "chunk": case "frame": return bytesToHex(value as Uint8Array);
    case "string": case "longstr": return value as string;
    case "strings": case "shortstrings": return [...(value as string[])];
    case "hash": case "dictionary": return [...(value as Map<string, string>)].map(([key, entry]) => [key, entry]);
    case "msg": return (value as Uint8Array[]).map(bytesToHex);
  }
}

/** Whether a codec is Guide-era (it uses FILEMQ/1's encodings), whose strings are pointers that may be null. */
const guideEra = new WeakMap<CodecSchema, boolean>();
function hasNullableStrings(schema: CodecSchema): boolean {
  let known = guideEra.get(schema);
  if (known === undefined) {
    known = schema.messages.some((message) => message.fields.some((field) => field.type === "dictionary" || field.type === "shortstrings"));
    guideEra.set(schema, known);
  }
  return known;
}

/** Whether `null` ("never set") is a valid JSON value of a field (`spec/wire.md` §11). */
function allowsNull(schema: CodecSchema, field: FieldSchema): boolean {
  if (field.type === "number" || field.type === "octets") return false;
  return field.type !== "string" || hasNullableStrings(schema);
}

/**
 * Builds a message from its JSON form. `null` fields stay unset, so they encode as the type's unset value;
 * a missing field is unset too. Unknown fields, constant fields and `null` for a type without "never set"
 * (numbers, octets, strings but in Guide-era codecs) are errors.
 */
export function fromJsonForm(schema: CodecSchema, json: unknown): DynamicMessage {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new JsonFormError(schema.model, null, null, "a message is a JSON object with \"message\" and \"fields\"");
  }
  const record = json as Record<string, unknown>;
  if (typeof record.message !== "string") throw new JsonFormError(schema.model, null, null, "\"message\" must be a message name");
  const message = findMessage(schema, record.message);
  if (message === undefined) throw new JsonFormError(schema.model, null, null, `unknown message ${JSON.stringify(record.message)}`);
  const fields = record.fields ?? {};
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new JsonFormError(schema.model, message.name, null, "\"fields\" must be an object");
  }
  const result: Record<string, unknown> = { message: message.key };
  if (record.topic !== undefined) {
    if (typeof record.topic !== "string") throw new JsonFormError(schema.model, message.name, "topic", "topic must be a string");
    result.topic = record.topic;
  }
  for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
    const field = message.fields.find((candidate) => candidate.name === name);
    if (field === undefined) throw new JsonFormError(schema.model, message.name, name, "no such field");
    if (field.value !== undefined) throw new JsonFormError(schema.model, message.name, name, "is a constant and cannot be set");
    if (value === null) {
      if (!allowsNull(schema, field)) throw new JsonFormError(schema.model, message.name, name, `cannot be null: a ${field.type} field is always set (give its value)`);
      continue;
    }
    result[field.key] = fieldFromJson(schema.model, message.name, field, value);
  }
  return result as DynamicMessage;
}

function fieldFromJson(model: string, messageName: string, field: FieldSchema, value: unknown): unknown {
  const bad = (expected: string): never => {
    throw new JsonFormError(model, messageName, field.name, `expected ${expected}, got ${JSON.stringify(value)}`);
  };
  const hexBytes = (text: unknown): Buffer => (typeof text === "string" ? hexToBytes(text) : undefined) ?? bad("a hex string");
  const text = (item: unknown): string => (typeof item === "string" ? item : bad("a string"));
  switch (field.type) {
    case "number":
      if (field.size === 8) return (typeof value === "string" ? decimalToBigint(value) : undefined) ?? bad("a decimal string");
      return typeof value === "number" && Number.isInteger(value) ? value : bad("an integer");
    case "octets": case "uuid": case "chunk": case "frame": return hexBytes(value);
    case "string": case "longstr": return text(value);
    case "strings": case "shortstrings": return Array.isArray(value) ? value.map(text) : bad("an array of strings");
    case "hash": case "dictionary": {
      if (!Array.isArray(value)) return bad("an array of [key, value] pairs");
      const map = new Map<string, string>();
      for (const pair of value) {
        if (!Array.isArray(pair) || pair.length !== 2) return bad("an array of [key, value] pairs");
        const key = text(pair[0]);
        if (map.has(key)) throw new JsonFormError(model, messageName, field.name, `key ${JSON.stringify(key)} occurs twice`);
        map.set(key, text(pair[1]));
      }
      return map;
    }
    case "msg": return Array.isArray(value) ? value.map(hexBytes) : bad("an array of hex frames");
  }
}
