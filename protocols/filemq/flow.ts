/**
 * Credit-based flow control (`filemq.md` §10.1): the numbers both C FileMQ versions use, and the client's
 * bookkeeping of the credit it granted. Credit counts octets of file content only.
 */

/** Largest chunk the server sends. */
export const CHUNK_SIZE = 1_000_000;
/** The client grants credit in slices of this size... */
export const CREDIT_SLICE = 1_000_000;
/** ...whenever what is outstanding falls below this (so a whole chunk always fits). */
export const CREDIT_MINIMUM = 4_000_001;
/**
 * The most credit the publisher lets one subscriber have outstanding: 16 times what C FileMQ and our
 * subscriber keep. Credit is the subscriber's to give, so without a bound a peer that grants 2^53 octets and
 * never reads would have the publisher queue everything it publishes for that peer. A NOM beyond it is a
 * protocol error (RTFM).
 */
export const MAX_OUTSTANDING_CREDIT = 64_000_000;

/** The client's side: credit granted and not yet used by the server. */
export class CreditWindow {
  private outstanding = 0;

  /** Credit the server may still use. */
  get available(): number {
    return this.outstanding;
  }

  /** The server sent this many octets of file content. */
  used(octets: number): void {
    this.outstanding -= octets;
  }

  /** Tops the window up with whole slices; returns the credit to grant in one NOM (0: none needed). */
  refill(): number {
    let grant = 0;
    while (this.outstanding < CREDIT_MINIMUM) {
      this.outstanding += CREDIT_SLICE;
      grant += CREDIT_SLICE;
    }
    return grant;
  }

  /** A new session starts with no credit. */
  reset(): void {
    this.outstanding = 0;
  }
}
