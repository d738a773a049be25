/** TypeScript source for plain data and text: literals the emitted code embeds. */

/** A TypeScript literal for a value: numbers, bigints, strings, arrays and plain objects, indented. */
export function tsLiteral(value: unknown, indent = ""): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const inner = indent + "  ";
    return `[\n${value.map((item) => inner + tsLiteral(item, inner)).join(",\n")},\n${indent}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    const flat = entries.every(([, item]) => typeof item !== "object" || item === null);
    const parts = entries.map(([key, item]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${tsLiteral(item, indent + "  ")}`);
    const oneLine = `{ ${parts.join(", ")} }`;
    if (flat && oneLine.length + indent.length <= 110) return oneLine;
    return `{\n${parts.map((part) => indent + "  " + part).join(",\n")},\n${indent}}`;
  }
  return "undefined";
}

/** The lines of a TSDoc comment body for `text` (may be empty), safe inside a block comment. */
export function docLines(text: string): string[] {
  if (text.trim() === "") return [];
  return text.replace(/\*\//g, "*\\/").split("\n");
}

/** The text of a one-line TSDoc comment when `text` fits on one line, else "" (the block form is used). */
export function docSingle(text: string, indent = 2): string {
  const lines = docLines(text);
  return lines.length === 1 && lines[0].length + indent + 7 <= 110 ? lines[0] : "";
}
