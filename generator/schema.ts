/** The wire part of a codec IR, as the plain-data schema the runtime interprets. */
import type { CodecSchema, FieldSchema } from "../runtime/wire/schema.js";
import type { CodecIR, FieldIR } from "./ir.js";

/** Schema of one field: only what the wire and the JSON form need. */
export function fieldSchema(field: FieldIR): FieldSchema {
  return {
    name: field.name,
    key: field.key,
    type: field.type,
    ...(field.size !== undefined ? { size: field.size } : {}),
    ...(field.value !== undefined ? { value: field.value } : {}),
    ...(field.secret ? { secret: true } : {}),
    ...(field.min !== undefined ? { min: field.min } : {}),
  };
}

/** Schema of a whole codec. */
export function codecSchema(model: CodecIR): CodecSchema {
  return {
    model: model.className,
    signature: model.signature,
    framing: model.framing,
    command: model.command,
    headerFields: model.headerFields,
    messages: model.messages.map((message) => ({
      name: message.name,
      key: message.key,
      id: message.id,
      fields: message.fields.map(fieldSchema),
    })),
  };
}
