/**
 * Engine configuration: a ZPL tree (`spec/zpl.md`), given in code or loaded from a file, optionally reloaded
 * when the file changes (checked once a second, as the C engines do).
 */
import { unwatchFile, watchFile } from "node:fs";
import { loadZplFile } from "../zpl/parse.js";
import { ZplNode } from "../zpl/tree.js";
import { MAX_TIMER_MS } from "./errors.js";

/** Where configuration comes from: a tree, a ZPL file's path, or plain `path → value` pairs. */
export type ConfigSource = ZplNode | string | Readonly<Record<string, string | number>>;

/** Builds a tree from pairs such as `{"server/timeout": 5000}`. */
export function configFromPairs(pairs: Readonly<Record<string, string | number>>): ZplNode {
  const root = ZplNode.createRoot();
  for (const [path, value] of Object.entries(pairs)) root.set(path, String(value));
  return root;
}

/** Resolves a config source to a tree. */
export async function loadConfig(source: ConfigSource | undefined): Promise<ZplNode> {
  if (source === undefined) return ZplNode.createRoot();
  if (source instanceof ZplNode) return source;
  if (typeof source === "string") return loadZplFile(source);
  return configFromPairs(source);
}

/** Calls `onChange` with the new tree whenever the file changes; parse errors go to `onError`. Returns a stop function. */
export function watchConfig(path: string, onChange: (tree: ZplNode) => void, onError: (error: unknown) => void, intervalMs = 1000): () => void {
  const listener = (current: { mtimeMs: number }, previous: { mtimeMs: number }): void => {
    if (current.mtimeMs === previous.mtimeMs) return;
    loadZplFile(path).then(onChange, onError);
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(path, listener);
}

/**
 * A duration setting in ms, or the default when absent: a positive integer that a timer can wait (longer
 * delays would fire at once); text that is not a number is an error.
 */
export function durationSetting(tree: ZplNode, path: string, fallback: number): number {
  const value = tree.getInteger(path, fallback) ?? fallback;
  if (value <= 0 || value > MAX_TIMER_MS) throw new RangeError(`configuration ${path} must be a whole number of ms from 1 to ${MAX_TIMER_MS}, not ${value}`);
  return value;
}
