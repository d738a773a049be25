/**
 * Model diagnostics: every problem found in a model, with where it is and a sentence a user can act on.
 * Checking collects all of them before failing, so a broken model is reported in one run.
 */

/** A position in a model file (1-based line and column). */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type Severity = "error" | "warning";

/** One problem in a model. */
export interface Diagnostic extends Location {
  readonly severity: Severity;
  readonly message: string;
}

/** `file:line:column: error: message`, the form editors and terminals link. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  return `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.severity}: ${diagnostic.message}`;
}

/** Collects diagnostics while a model is loaded and checked. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  /** Part of the model could not be read (an include failed, with its error): what it defines is unknown. */
  incomplete = false;

  error(at: Location, message: string): void {
    this.list.push({ file: at.file, line: at.line, column: at.column, severity: "error", message });
  }

  warning(at: Location, message: string): void {
    this.list.push({ file: at.file, line: at.line, column: at.column, severity: "warning", message });
  }

  /**
   * An error about something the model does not define (a state, a message, a define, a reply) or does not
   * have (a message at all). Not reported while the model is incomplete: the part that could not be read may
   * define it, and the error that part got is what to fix.
   */
  unresolved(at: Location, message: string): void {
    if (!this.incomplete) this.error(at, message);
  }

  get hasErrors(): boolean {
    return this.list.some((diagnostic) => diagnostic.severity === "error");
  }

  get errors(): Diagnostic[] {
    return this.list.filter((diagnostic) => diagnostic.severity === "error");
  }

  get warnings(): Diagnostic[] {
    return this.list.filter((diagnostic) => diagnostic.severity === "warning");
  }

  /** Diagnostics in file, line and column order. */
  sorted(): Diagnostic[] {
    return [...this.list].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  }
}

/** Thrown when a model has errors; carries all of them. */
export class ModelError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic).join("\n"));
    this.name = "ModelError";
  }
}
