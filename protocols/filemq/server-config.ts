/**
 * The publisher's configuration (`filemq.md` §9.1), read from a ZPL tree in the Guide's form: `server`
 * timing (seconds, as FileMQ has it), `publish` sections (one mount each; `alias` or the Guide's synonym
 * `virtual`), `bind/endpoint`, `security` and the Guide-era method section `set_anonymous`. Mistakes are
 * reported when the configuration is loaded, with a sentence naming the key, never later as a crash.
 */
import type { ZplNode } from "../../runtime/zpl/tree.js";
import type { Mount } from "./catalog.js";

/** A configuration FileMQ cannot use. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigurationError";
  }
}

/** What the publisher takes from its configuration. */
export interface PublisherSettings {
  /** Period of the rescan of every mount (`server/monitor`, seconds; default 1). */
  readonly monitorMs: number;
  /** Client silence before HUGZ; three of them expire the client (`server/heartbeat`, seconds; default 1). */
  readonly heartbeatMs: number;
  /** Age a modification must reach before a file is published (`server/stable_age`, ms; default 1000). */
  readonly stableAgeMs: number;
  readonly mounts: readonly Mount[];
  readonly endpoints: readonly string[];
  /** `security/anonymous` (or `set_anonymous/enabled`): everyone may in without authenticating. */
  readonly anonymous: boolean;
  /** `security/plain`: SASL PLAIN with the accounts under it. */
  readonly plain: boolean;
  /**
   * `security/curve = 1`: CURVE transport encryption with the secret certificate `security/curve/certificate`;
   * `security/curve/client` entries (public certificates) list the clients let in (none: any client that knows
   * the server's public key).
   */
  readonly curve: { readonly certificate: string; readonly clients: readonly string[] } | undefined;
  /** `echo` texts, logged when the configuration is applied. */
  readonly echoes: readonly string[];
}

/** Reads and checks a publisher configuration. */
export function readPublisherSettings(config: ZplNode): PublisherSettings {
  return {
    monitorMs: seconds(config, "server/monitor", 1),
    heartbeatMs: seconds(config, "server/heartbeat", 1),
    stableAgeMs: whole(config, "server/stable_age", 1000, 0),
    mounts: config.all("publish").map(readMount),
    endpoints: config.all("bind/endpoint").map((node) => node.value ?? "").filter((endpoint) => endpoint !== ""),
    anonymous: flag(config, "security/anonymous") || flag(config, "set_anonymous/enabled"),
    plain: flag(config, "security/plain"),
    curve: readCurve(config),
    echoes: collectEchoes(config),
  };
}

function readCurve(config: ZplNode): PublisherSettings["curve"] {
  if (!flag(config, "security/curve")) return undefined;
  const certificate = config.get("security/curve/certificate");
  if (certificate === undefined || certificate === "") throw new ConfigurationError("security/curve = 1 needs security/curve/certificate: the server's secret certificate (filemq keygen)");
  return { certificate, clients: config.all("security/curve/client").map((node) => node.value ?? "").filter((file) => file !== "") };
}

function readMount(section: ZplNode, index: number): Mount {
  const where = `publish section ${index + 1}`;
  const location = section.get("location");
  const alias = section.get("alias");
  const virtual = section.get("virtual");
  if (location === undefined || location === "") throw new ConfigurationError(`${where} has no location`);
  if (alias !== undefined && virtual !== undefined && alias !== virtual) {
    throw new ConfigurationError(`${where} has alias ${JSON.stringify(alias)} and virtual ${JSON.stringify(virtual)}: they are synonyms, give one`);
  }
  const path = alias ?? virtual;
  if (path === undefined || path === "") throw new ConfigurationError(`${where} (${location}) has no alias (or virtual)`);
  if (!path.startsWith("/")) throw new ConfigurationError(`${where} (${location}): alias ${JSON.stringify(path)} must start with /`);
  return { location, alias: path };
}

/** A duration in whole seconds, as ms. */
function seconds(config: ZplNode, path: string, fallback: number): number {
  return whole(config, path, fallback, 1) * 1000;
}

function whole(config: ZplNode, path: string, fallback: number, minimum: number): number {
  let value: number | undefined;
  try {
    value = config.getInteger(path, fallback);
  } catch {
    throw new ConfigurationError(`${path} must be a whole number, not ${JSON.stringify(config.get(path))}`);
  }
  if (value === undefined || value < minimum || value > 2_000_000) throw new ConfigurationError(`${path} must be a whole number from ${minimum}, not ${config.get(path)}`);
  return value;
}

function flag(config: ZplNode, path: string): boolean {
  const value = config.get(path);
  if (value === undefined || value === "0" || value === "") return false;
  if (value === "1") return true;
  throw new ConfigurationError(`${path} must be 0 or 1, not ${JSON.stringify(value)}`);
}

function collectEchoes(node: ZplNode): string[] {
  return node.children.flatMap((child) => (child.name === "echo" ? [child.value ?? ""] : collectEchoes(child)));
}
