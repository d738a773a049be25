/**
 * `--verbose` message traces: every message a Majordomo peer sends or receives, in its readable ZPL form
 * (what `zproto print` shows), written as one block per message.
 */
import type { MessageTracer } from "../../runtime/engine/trace.js";
import { printZplForm, type AnyMessage, type CodecSchema } from "../../runtime/wire/index.js";
import type { DynamicMessage } from "../../runtime/wire/interpret.js";

/** Finds the schema of a message (one codec's, or the right member's of a union). */
export type SchemaOf = (message: AnyMessage) => CodecSchema | undefined;

/**
 * A tracer writing `--> sent` / `<-- received` and the message's ZPL form (with the peer's routing id on a
 * broker) through `write`. A message no schema describes is named only.
 */
export function zplTracer(schemaOf: SchemaOf, write: (text: string) => void): MessageTracer {
  return (direction, message, routingId) => {
    const schema = schemaOf(message);
    const header = direction === "sent" ? "--> sent" : "<-- received";
    if (schema === undefined) {
      write(`${header} ${message.message}\n`);
      return;
    }
    const form = printZplForm(schema, message as unknown as DynamicMessage, routingId !== undefined ? { routingId } : {});
    write(`${header}\n${form}`);
  };
}
