/**
 * The FileMQ demo (`npm run demo`): publishes a sample tree, mirrors it through a subscriber over tcp on
 * 127.0.0.1, changes the tree while both run, shows each file as it arrives or goes, and checks that the
 * mirror holds exactly the published bytes. Everything lives in a temporary directory removed at the end.
 */
import { createHash, randomBytes } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { silentLogger } from "../../runtime/engine/index.js";
import { plural } from "../../runtime/wire/plural.js";
import { subscribe, type SubscriberEvent } from "./client.js";
import { formatBytes } from "./cli/common.js";
import { startPublisher } from "./server.js";

/** The sample tree: a little of everything FileMQ carries. */
function sampleTree(): Record<string, string | Uint8Array> {
  const rows = Array.from({ length: 2000 }, (_, i) => `${i},${(i * i) % 9973},${Math.sin(i).toFixed(6)}`);
  return {
    "docs/readme.txt": "FileMQ mirrors directory trees over ZeroMQ.\n",
    "docs/empty.txt": "",
    "data/numbers.csv": `n,square mod 9973,sine\n${rows.join("\n")}\n`,
    "data/blob.bin": randomBytes(3_000_000),
    "héllo wörld/日本語.txt": "names are UTF-8\n",
  };
}

/** Steps a demo gives up on after this long: the demo must never hang. */
const STEP_TIMEOUT_MS = 20_000;

/** Runs the demo, writing what happens to `print`; resolves true when the mirror checked out. */
export async function runDemo(print: (line: string) => void): Promise<boolean> {
  const workspace = await mkdtemp(join(tmpdir(), "filemq-demo-"));
  const published = join(workspace, "published");
  const mirror = join(workspace, "mirror");
  const events: SubscriberEvent[] = [];
  let waiters: (() => void)[] = [];
  try {
    await writeTree(published, sampleTree());
    print("FileMQ demo: publish a tree, mirror it over tcp on 127.0.0.1, change it while it runs, verify.\n");
    const publisher = await startPublisher({
      config: { "security/anonymous": 1, "server/stable_age": 200 },
      mounts: [{ location: published, alias: "/" }],
      logger: silentLogger,
    });
    try {
      await settle(publisher.settings.stableAgeMs);
      await publisher.rescan();
      const endpoint = await publisher.bind("tcp://127.0.0.1:*");
      print(`publisher   serves ${published} as / on ${endpoint}`);
      print(`subscriber  mirrors it into ${mirror}\n`);
      const started = Date.now();
      const subscriber = await subscribe(endpoint, {
        inbox: mirror,
        logger: silentLogger,
        onEvent: (event) => {
          events.push(event);
          const line = describe(event);
          if (line !== undefined) print(line);
          for (const wake of waiters.splice(0)) wake();
        },
      });
      try {
        await within(subscriber.caughtUp(), "the first mirror");
        const delivered = events.filter((event) => event.type === "delivered");
        const octets = delivered.reduce((sum, event) => sum + (event.type === "delivered" ? event.size : 0), 0);
        print(`caught up: ${plural(delivered.length, "file")}, ${formatBytes(octets)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

        print("changing the published tree while both run:");
        print("  edit    /docs/readme.txt (a line appended)");
        await appendFile(join(published, "docs/readme.txt"), "Changes propagate while it runs.\n");
        print("  delete  /data/numbers.csv");
        await rm(join(published, "data/numbers.csv"));
        print("  create  /notes/new.txt\n");
        await writeTree(published, { "notes/new.txt": "written after the subscriber connected\n" });
        const seen = (wanted: (event: SubscriberEvent) => boolean): boolean => events.some(wanted);
        await within(new Promise<void>((resolve) => {
          const check = (): void => {
            const done = seen((e) => e.type === "deleted" && e.filename === "/data/numbers.csv")
              && seen((e) => e.type === "delivered" && e.filename === "/notes/new.txt")
              && events.filter((e) => e.type === "delivered" && e.filename === "/docs/readme.txt").length === 2;
            if (done) resolve();
            else waiters.push(check);
          };
          check();
        }), "the changes to arrive");
      } finally {
        await subscriber.close();
      }
    } finally {
      await publisher.close();
    }
    return await verify(published, mirror, print);
  } finally {
    waiters = [];
    await rm(workspace, { recursive: true, force: true });
  }
}

/** One line per thing that happened to the mirror. */
function describe(event: SubscriberEvent): string | undefined {
  switch (event.type) {
    case "delivered": return `  arrived   ${event.filename.padEnd(26)} ${formatBytes(event.size)}`;
    case "deleted": return `  deleted   ${event.filename}`;
    case "refused": return `  refused   ${event.filename}: ${event.reason}`;
    case "failed": return `  failed    ${event.filename}: ${event.reason}`;
    case "disconnected": return `  (disconnected: ${event.reason})`;
    case "connection-failed": return `  (connection failed: ${event.reason})`;
    case "denied": return `  (denied: ${event.reason})`;
    default: return undefined;
  }
}

/** Compares the two trees file by file; prints the verdict. */
async function verify(published: string, mirror: string, print: (line: string) => void): Promise<boolean> {
  const want = await digests(published);
  const have = await digests(mirror);
  const wrong = [...new Set([...want.keys(), ...have.keys()])].filter((path) => want.get(path) !== have.get(path));
  if (wrong.length > 0) {
    print(`\nMIRROR DIFFERS: ${wrong.join(", ")}`);
    return false;
  }
  print(`\nverified: the mirror holds exactly the ${plural(want.size, "published file")}, every SHA-256 equal, no partial file left.`);
  return true;
}

/** SHA-256 of every file under `root`, hidden files included except the subscriber's own cache. */
async function digests(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (directory: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else if (!(prefix === "" && entry.name === ".cache")) found.set(prefix + entry.name, createHash("sha256").update(await readFile(path)).digest("hex"));
    }
  };
  await walk(root, "");
  return found;
}

async function writeTree(root: string, files: Readonly<Record<string, string | Uint8Array>>): Promise<void> {
  for (const [relative, contents] of Object.entries(files)) {
    await mkdir(dirname(join(root, relative)), { recursive: true });
    await writeFile(join(root, relative), contents);
  }
}

function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms + 20));
}

/** A step that must finish in time. */
async function within<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
