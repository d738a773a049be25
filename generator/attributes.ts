/** Reading attributes of model elements, reporting unknown ones and bad numbers. */
import type { Diagnostics } from "./diagnostics.js";
import type { ModelAttribute, ModelElement } from "./element.js";

/** Warns about attributes of `element` that are not in `known`. */
export function checkAttributes(element: ModelElement, known: readonly string[], diagnostics: Diagnostics): void {
  for (const [name, attribute] of element.attributes) {
    if (!known.includes(name)) diagnostics.warning(attribute.at, `unknown attribute ${name} on <${element.name}> is ignored`);
  }
}

/** A required, non-empty attribute, or undefined after reporting it missing. */
export function required(element: ModelElement, name: string, diagnostics: Diagnostics): ModelAttribute | undefined {
  const attribute = element.attributes.get(name);
  if (attribute === undefined || attribute.value.trim() === "") {
    diagnostics.error(attribute?.at ?? element.at, `<${element.name}> needs a ${name} attribute`);
    return undefined;
  }
  return attribute;
}

/**
 * The `name` attribute of an element, required and made of words: the identifiers derived from a name (type,
 * function and constant names) are built from its letters and digits, so a name without any (`#`) is an
 * error. `*` passes where `wildcard` allows it: an event handler for any event.
 */
export function requiredName(element: ModelElement, diagnostics: Diagnostics, wildcard = false): ModelAttribute | undefined {
  const attribute = required(element, "name", diagnostics);
  if (attribute === undefined || /[A-Za-z0-9]/.test(attribute.value) || (wildcard && attribute.value.trim() === "*")) return attribute;
  diagnostics.error(attribute.at, `name "${attribute.value}" of <${element.name}> has no letter or digit, so no identifier can be made of it`);
  return undefined;
}

/** Parses a decimal or `0x` hexadecimal integer literal; null if the text is not one. */
export function parseInteger(text: string): bigint | null {
  const trimmed = text.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(trimmed) || /^[0-9]+$/.test(trimmed)) return BigInt(trimmed);
  return null;
}

/** An integer attribute within `min..max`, `fallback` when absent, undefined after reporting a bad value. */
export function integerAttribute(
  element: ModelElement, name: string, min: number, max: number, fallback: number | undefined, diagnostics: Diagnostics,
): number | undefined {
  const attribute = element.attributes.get(name);
  if (attribute === undefined) return fallback;
  const value = parseInteger(attribute.value);
  if (value === null || value < BigInt(min) || value > BigInt(max)) {
    diagnostics.error(attribute.at, `${name}="${attribute.value}" on <${element.name}> must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return Number(value);
}

/** A `0`/`1` flag attribute. */
export function flagAttribute(element: ModelElement, name: string, diagnostics: Diagnostics): boolean {
  return integerAttribute(element, name, 0, 1, 0, diagnostics) === 1;
}
