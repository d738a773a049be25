/**
 * How `filemq` shows what happens, in one of three modes: on a terminal, live progress (cli-progress) with a
 * line for each file above it; when not a terminal, one plain line per file or change; with `--json`, one
 * JSON object per line (`{"event": ..., "time": ...}`), progress thinned to a few records a second.
 */
import { MultiBar, type SingleBar } from "cli-progress";
import type { SubscriberEvent } from "../client.js";
import type { PublisherEvent } from "../server.js";
import { plural } from "../../../runtime/wire/plural.js";
import { formatBytes, type CliIo } from "./common.js";

/** How output looks. */
export type ReportMode = "tty" | "plain" | "json";

/** The mode for these options and this stdout. */
export function reportMode(io: CliIo, json: boolean): ReportMode {
  return json ? "json" : io.stdout.isTTY === true ? "tty" : "plain";
}

/** Progress records per file per second at most, in JSON mode. */
const JSON_PROGRESS_INTERVAL_MS = 250;

/** Shows events of one kind; `close` stops any live display. */
export interface Report<Event> {
  show(event: Event): void;
  /** A line of its own (start-up, shutdown). */
  note(text: string, fields?: Readonly<Record<string, unknown>>): void;
  close(): void;
}

/**
 * Writes JSON lines; progress records of one file no more often than a few times a second. `fields` go into
 * every record (a relay's `side`).
 */
class JsonLines<Event extends { readonly type: string }> implements Report<Event> {
  private readonly lastProgress = new Map<string, number>();

  constructor(
    private readonly io: CliIo,
    private readonly progressKey: (event: Event) => string | undefined,
    private readonly fields: Readonly<Record<string, unknown>> = {},
  ) {}

  show(event: Event): void {
    const key = this.progressKey(event);
    if (key !== undefined) {
      const now = Date.now();
      if (now - (this.lastProgress.get(key) ?? 0) < JSON_PROGRESS_INTERVAL_MS) return;
      this.lastProgress.set(key, now);
    } else {
      this.lastProgress.clear();
    }
    const { type, ...fields } = event;
    this.write({ event: type, ...fields });
  }

  note(text: string, fields: Readonly<Record<string, unknown>> = {}): void {
    this.write({ event: "note", message: text, ...fields });
  }

  close(): void {}

  private write(record: Record<string, unknown>): void {
    this.io.stdout.write(`${JSON.stringify({ event: record.event, ...this.fields, ...record, time: new Date().toISOString() })}\n`);
  }
}

/** Writes one plain line per event that matters (no progress). */
class PlainLines<Event> implements Report<Event> {
  constructor(private readonly io: CliIo, private readonly line: (event: Event) => string | undefined) {}

  show(event: Event): void {
    const text = this.line(event);
    if (text !== undefined) this.io.stdout.write(`${text}\n`);
  }

  note(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  close(): void {}
}

/** Terminal display: bars and status lines that update in place, with event lines printed above them. */
abstract class LiveDisplay<Event> implements Report<Event> {
  protected readonly bars: MultiBar;

  constructor(private readonly io: CliIo, private readonly line: (event: Event) => string | undefined) {
    this.bars = new MultiBar({
      stream: io.stdout,
      format: " {label} {bar} {percentage}% {detail}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      autopadding: true,
      fps: 8,
    });
  }

  show(event: Event): void {
    const text = this.line(event);
    if (text !== undefined) this.print(text);
    this.update(event);
  }

  note(text: string): void {
    this.print(text);
  }

  close(): void {
    // The bars print the lines given to them at their next redraw, which stop() does not do.
    if (this.bars.isActive) this.bars.update();
    this.bars.stop();
  }

  protected abstract update(event: Event): void;

  /** A line above the bars; with no bar yet, the bars would hold it back until one comes, so it goes out now. */
  private print(text: string): void {
    if (this.bars.isActive) this.bars.log(`${text}\n`);
    else this.io.stdout.write(`${text}\n`);
  }
}

export function subscriberLine(event: SubscriberEvent): string | undefined {
  switch (event.type) {
    case "connected": return `connected to ${event.endpoint}`;
    case "delivered": return `delivered ${event.filename} (${formatBytes(event.size)})`;
    case "deleted": return `deleted ${event.filename}`;
    case "refused": return `refused ${JSON.stringify(event.filename)} from the server: ${event.reason}`;
    case "failed": return `cannot write ${event.filename}: ${event.reason}`;
    case "caught-up": return "caught up";
    case "disconnected": return `disconnected: ${event.reason}`;
    case "connection-failed": return `connection failed: ${event.reason}`;
    case "denied": return `denied: ${event.reason}`;
    case "progress": return undefined;
  }
}

/**
 * The subscriber on a terminal. FILEMQ/1 does not tell a subscriber how big a file is, so its live line
 * shows what arrived and how fast, not a percentage (the publisher's bars have one).
 */
class SubscriberDisplay extends LiveDisplay<SubscriberEvent> {
  private readonly status: SingleBar;
  private readonly started = Date.now();
  private files = 0;
  private octets = 0;
  private current: { filename: string; offset: number } | undefined;

  constructor(io: CliIo) {
    super(io, subscriberLine);
    this.status = this.bars.create(0, 0, { label: "waiting", detail: "" }, { format: " {label} {detail}" });
  }

  protected update(event: SubscriberEvent): void {
    if (event.type === "progress") {
      this.octets += event.offset - (this.current?.filename === event.filename ? this.current.offset : 0);
      this.current = { filename: event.filename, offset: event.offset };
    } else if (event.type === "delivered") {
      this.files++;
      this.current = undefined;
    }
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const receiving = this.current === undefined ? "" : `receiving ${this.current.filename} (${formatBytes(this.current.offset)} so far) · `;
    this.status.update(0, {
      label: event.type === "caught-up" ? "caught up" : event.type === "disconnected" ? "reconnecting" : "mirroring",
      detail: `${receiving}${plural(this.files, "file")}, ${formatBytes(this.octets)}, ${formatBytes(this.octets / seconds)}/s`,
    });
  }
}

function publisherLine(event: PublisherEvent): string | undefined {
  switch (event.type) {
    case "joined": return `client ${event.client} joined`;
    case "left": return `client ${event.client} left`;
    case "subscribed": return `client ${event.client} subscribed to ${event.path}`;
    case "sent": return `sent ${event.filename} to client ${event.client} (${formatBytes(event.size)})`;
    case "deleted": return `deleted ${event.filename} for client ${event.client}`;
    case "changed": return `changes: ${event.creates} new or changed, ${event.deletes} deleted`;
    case "sending": return undefined;
  }
}

/** The publisher on a terminal: a bar per subscriber while a file is on its way to it. */
class PublisherDisplay extends LiveDisplay<PublisherEvent> {
  private readonly sending = new Map<number, SingleBar>();

  constructor(io: CliIo) {
    super(io, publisherLine);
  }

  protected update(event: PublisherEvent): void {
    if (event.type === "sending") {
      const detail = `${event.filename} ${formatBytes(event.offset)} of ${formatBytes(event.size)}`;
      const bar = this.sending.get(event.client);
      if (bar === undefined) this.sending.set(event.client, this.bars.create(event.size, event.offset, { label: `client ${event.client}`, detail }));
      else {
        bar.setTotal(event.size);
        bar.update(event.offset, { detail });
      }
    } else if (event.type === "sent" || event.type === "left") {
      const bar = this.sending.get(event.client);
      if (bar !== undefined) this.bars.remove(bar);
      this.sending.delete(event.client);
    }
  }
}

/** The report of a subscriber in this mode. */
export function subscriberReport(io: CliIo, mode: ReportMode): Report<SubscriberEvent> {
  if (mode === "json") return new JsonLines<SubscriberEvent>(io, (event) => (event.type === "progress" ? event.filename : undefined));
  if (mode === "plain") return new PlainLines(io, subscriberLine);
  return new SubscriberDisplay(io);
}

/** The report of a publisher in this mode; `fields` go into every JSON record (a relay's `side`). */
export function publisherReport(io: CliIo, mode: ReportMode, fields: Readonly<Record<string, unknown>> = {}): Report<PublisherEvent> {
  if (mode === "json") return new JsonLines<PublisherEvent>(io, (event) => (event.type === "sending" ? `${event.client} ${event.filename}` : undefined), fields);
  if (mode === "plain") return new PlainLines(io, publisherLine);
  return new PublisherDisplay(io);
}
