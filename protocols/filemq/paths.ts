/**
 * Virtual paths of FileMQ: what a path or filename from a peer may look like, and how paths join. The
 * subscriber checks every CHEEZBURGER filename with these rules before it touches the disk, and the publisher
 * checks every ICANHAZ path and cache key, so that no peer can name anything outside the tree it serves or
 * the inbox it writes (the C FileMQ joined them unchecked).
 */

/** What is being checked: a filename from a CHEEZBURGER, or a subscription path (which may end with `/`). */
export type PathKind = "filename" | "subscription";

/** Longest path FILEMQ/1 can carry: its strings have a one-octet length. */
export const MAX_PATH_OCTETS = 255;

/** Control characters: C0, DEL and C1. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `path` is not an acceptable virtual path, or undefined when it is. It must start with `/`; split on
 * `/` it has no empty segment except the leading one (and for subscriptions a trailing one: `/`, `/logs/`),
 * no `.` or `..`, no segment starting with `.` (hidden files, such as the subscriber's cache and temporary
 * files), no `\`, no `:` in the first segment (a Windows drive), no control characters, and at most 255
 * octets of UTF-8.
 */
export function pathProblem(path: string, kind: PathKind): string | undefined {
  if (Buffer.byteLength(path, "utf8") > MAX_PATH_OCTETS) return `longer than ${MAX_PATH_OCTETS} octets`;
  if (!path.startsWith("/")) return "does not start with /";
  if (CONTROL.test(path)) return "contains a control character";
  if (path.includes("\\")) return "contains a backslash";
  if (/\uFFFD/.test(path)) return "is not valid UTF-8";
  const segments = path.slice(1).split("/");
  if (kind === "subscription" && segments[segments.length - 1] === "") segments.pop();
  if (kind === "filename" && segments.length === 0) return "names no file";
  for (const [index, segment] of segments.entries()) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return `has a ${segment} segment`;
    if (segment.startsWith(".")) return "has a hidden segment (starting with .)";
    if (index === 0 && segment.includes(":")) return "has a : in its first segment";
  }
  return undefined;
}

/** The segments of a valid filename (after its leading `/`). */
export function segmentsOf(filename: string): string[] {
  return filename.slice(1).split("/");
}

/** Joins a virtual directory and a relative path with exactly one `/` (`/` + `a/b` → `/a/b`). */
export function joinVirtual(directory: string, relative: string): string {
  const head = directory.endsWith("/") ? directory.slice(0, -1) : directory;
  const tail = relative.startsWith("/") ? relative.slice(1) : relative;
  return `${head}/${tail}`;
}

/**
 * The virtual path a RESYNC cache key names (spec 19 and `filemq.md` §11.4): a key starting with `/` must
 * lie under the subscription path; any other key is relative to it. Undefined for keys that name nothing
 * acceptable (they are ignored).
 */
export function cacheKeyPath(subscription: string, key: string): string | undefined {
  const path = key.startsWith("/") ? key : joinVirtual(subscription, key);
  if (!path.startsWith(subscription)) return undefined;
  return pathProblem(path, "filename") === undefined ? path : undefined;
}

/** The cache key of `vpath` relative to a subscription path (inverse of {@link cacheKeyPath}). */
export function relativeKey(subscription: string, vpath: string): string {
  const base = subscription.endsWith("/") ? subscription : `${subscription}/`;
  return vpath.startsWith(base) ? vpath.slice(base.length) : vpath;
}
