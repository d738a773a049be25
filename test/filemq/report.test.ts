/**
 * What `filemq` prints on a terminal (cli-progress bars with lines above them), written to a stream that
 * says it is a TTY: every line shows, the ones before any bar exists and the last ones before the display
 * closes included.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CliIo } from "../../protocols/filemq/cli/common.js";
import { publisherReport, subscriberReport } from "../../protocols/filemq/cli/report.js";

/** A terminal that records what is written to it. */
class Terminal extends Writable {
  readonly isTTY = true;
  readonly columns = 100;
  readonly rows = 40;
  private readonly written: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.written.push(chunk.toString());
    done();
  }

  get text(): string {
    return this.written.join("");
  }
}

function terminalIo(terminal: Terminal): CliIo {
  return { stdout: terminal, stderr: new Terminal(), stdin: process.stdin, env: {}, interrupted: new Promise(() => undefined) };
}

describe("the terminal display", () => {
  it("of the publisher shows its lines before any transfer, and the last ones when it stops", () => {
    const terminal = new Terminal();
    const report = publisherReport(terminalIo(terminal), "tty");
    report.note("publishing /srv as / on tcp://127.0.0.1:5670");
    report.show({ type: "joined", client: 1 });
    expect(terminal.text).toContain("publishing /srv as / on tcp://127.0.0.1:5670");
    expect(terminal.text).toContain("client 1 joined");
    report.show({ type: "sending", client: 1, filename: "/a.bin", offset: 1_000_000, size: 3_000_000 });
    report.show({ type: "sent", client: 1, filename: "/a.bin", size: 3_000_000 });
    report.note("stopping (SIGINT)");
    report.close();
    expect(terminal.text).toContain("sent /a.bin to client 1");
    expect(terminal.text).toContain("stopping (SIGINT)");
  });

  it("of the subscriber shows the line of its last event when it stops", () => {
    const terminal = new Terminal();
    const report = subscriberReport(terminalIo(terminal), "tty");
    report.show({ type: "delivered", filename: "/a.txt", path: "/tmp/a.txt", size: 3 });
    report.show({ type: "caught-up" });
    report.close();
    expect(terminal.text).toContain("delivered /a.txt");
    expect(terminal.text).toContain("caught up");
  });
});
