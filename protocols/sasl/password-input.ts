/**
 * Reads passwords line by line from a stream, as bytes that are overwritten once used: from a terminal in
 * raw mode (no echo, with backspace, Ctrl-U, Ctrl-C and Ctrl-D), or from a pipe or file (one line each).
 *
 * @module
 */

import { PasswdAbortedError } from "./errors.js";

/** A readable stream that may be a terminal (`process.stdin`, a `tty.ReadStream`). */
export type PasswordSource = NodeJS.ReadableStream & { readonly isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

/** Longest line kept, in octets; a longer one is reported, not truncated. */
const MAX_LINE_OCTETS = 1024;

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = 0x08;
const LF = 0x0a;
const CR = 0x0d;
const CTRL_U = 0x15;
const DEL = 0x7f;

/** A finished line, or why there is none. */
type LineResult = { readonly line: Buffer } | { readonly error: PasswdAbortedError };

/**
 * Splits a stream into lines. In terminal mode it interprets the editing keys a cooked terminal would
 * (the terminal is in raw mode so that nothing is echoed).
 */
export class PasswordLineReader {
  private readonly results: LineResult[] = [];
  private current = Buffer.alloc(MAX_LINE_OCTETS);
  private length = 0;
  private overflow = false;
  private lastWasCR = false;
  private finished = false;
  private wake: (() => void) | undefined;
  private readonly onData = (chunk: Buffer | string) => this.consume(chunk);
  private readonly onEnd = () => this.end(undefined);
  private readonly onError = (error: Error) => this.end(new PasswdAbortedError(`cannot read the password: ${error.message}`));

  constructor(
    private readonly input: PasswordSource,
    private readonly terminal: boolean,
  ) {
    input.on("data", this.onData);
    input.on("end", this.onEnd);
    input.on("error", this.onError);
    input.resume();
  }

  /**
   * The next line without its line ending; the caller overwrites it after use.
   * @throws {@link PasswdAbortedError} at end of input, on Ctrl-C or Ctrl-D, or for a line over 1024 octets
   */
  async nextLine(): Promise<Buffer> {
    while (this.results.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    const result = this.results.shift() as LineResult;
    if ("error" in result) {
      // An error stays in place so every later read reports it too.
      this.results.unshift(result);
      throw result.error;
    }
    return result.line;
  }

  /** Detaches from the stream, pauses it and overwrites everything still held. */
  close(): void {
    this.input.removeListener("data", this.onData);
    this.input.removeListener("end", this.onEnd);
    this.input.removeListener("error", this.onError);
    this.input.pause();
    this.current.fill(0);
    for (const result of this.results) if ("line" in result) result.line.fill(0);
  }

  private consume(chunk: Buffer | string): void {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    for (const byte of bytes) {
      if (this.finished) break;
      if (this.terminal) this.terminalByte(byte);
      else this.plainByte(byte);
    }
    bytes.fill(0);
    this.notify();
  }

  private plainByte(byte: number): void {
    if (byte === LF) this.finishLine();
    else this.append(byte);
  }

  private terminalByte(byte: number): void {
    const afterCR = this.lastWasCR;
    this.lastWasCR = byte === CR;
    if (byte === CR || (byte === LF && !afterCR)) this.finishLine();
    else if (byte === LF) return; // the LF of a CR LF pair
    else if (byte === BACKSPACE || byte === DEL) this.eraseCharacter();
    else if (byte === CTRL_U) this.eraseLine();
    else if (byte === CTRL_C) this.end(new PasswdAbortedError("interrupted"));
    else if (byte === CTRL_D && this.length === 0 && !this.overflow) this.end(new PasswdAbortedError("no password entered (end of input)"));
    else if (byte !== CTRL_D) this.append(byte);
  }

  private append(byte: number): void {
    if (this.length < MAX_LINE_OCTETS) this.current[this.length++] = byte;
    else this.overflow = true;
  }

  /** Removes the last UTF-8 character: its continuation octets and its lead octet. */
  private eraseCharacter(): void {
    while (this.length > 0 && (this.current[this.length - 1] & 0xc0) === 0x80) this.current[--this.length] = 0;
    if (this.length > 0) this.current[--this.length] = 0;
  }

  private eraseLine(): void {
    this.current.fill(0, 0, this.length);
    this.length = 0;
    this.overflow = false;
  }

  private finishLine(): void {
    if (this.overflow) {
      this.results.push({ error: new PasswdAbortedError(`the line is longer than ${MAX_LINE_OCTETS} octets`) });
      this.finished = true;
    } else {
      let end = this.length;
      if (!this.terminal && end > 0 && this.current[end - 1] === CR) end--;
      this.results.push({ line: Buffer.from(this.current.subarray(0, end)) });
    }
    this.eraseLine();
  }

  private end(error: PasswdAbortedError | undefined): void {
    if (this.finished) return;
    // Input that ends without a line break still counts as a line (e.g. `printf secret | filemq passwd`).
    if (error === undefined && !this.terminal && (this.length > 0 || this.overflow)) this.finishLine();
    this.eraseLine();
    this.results.push({ error: error ?? new PasswdAbortedError("no password given (end of input)") });
    this.finished = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
