/**
 * A FileMQ relay: a subscriber mirrors an upstream publisher into an inbox, and a publisher serves that inbox
 * downstream, so one publisher feeds a tree of relays and their subscribers. Files reach the inbox whole (a
 * temporary dot-file renamed into place) and dot-files are never published, so a file appears downstream
 * only once it is complete upstream; each delivery or delete upstream makes the publisher look at that file
 * at once (file watching would too, a moment later, where it works).
 */
import { mkdir } from "node:fs/promises";
import type { CallOptions, Logger } from "../../runtime/engine/index.js";
import type { ZplNode } from "../../runtime/zpl/tree.js";
import { subscribe, type FileMqSubscriber, type SubscriberOptions } from "./client.js";
import { startPublisher, type FileMqPublisher, type PublisherOptions } from "./server.js";

/** Options of a relay. */
export interface RelayOptions {
  /** The upstream publisher's endpoint. */
  readonly upstream: string;
  /** The relay's inbox, which it publishes. */
  readonly inbox: string;
  /** The virtual path the inbox is published under downstream (default `/`). */
  readonly alias?: string;
  /** The subscriber's options (paths, credentials, heartbeat...). */
  readonly subscriber?: Omit<SubscriberOptions, "inbox">;
  /** The publisher's options; its configuration (a ZPL tree) gives security and timing downstream. */
  readonly publisher?: Omit<PublisherOptions, "mounts"> & { readonly config?: ZplNode };
  readonly logger?: Logger;
}

/** A running relay. */
export interface FileMqRelay {
  readonly subscriber: FileMqSubscriber;
  readonly publisher: FileMqPublisher;
  /** Binds a downstream endpoint; returns the endpoint bound. */
  bind(endpoint: string, options?: CallOptions): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts a relay: creates the inbox if it is new (so that the publisher can watch it from the start), starts
 * the publisher (so its catalog knows what the inbox already holds), then the subscriber. Files arrive
 * atomically, so the downstream side needs no stability age.
 */
export async function startRelay(options: RelayOptions): Promise<FileMqRelay> {
  const logger = options.logger;
  await mkdir(options.inbox, { recursive: true });
  const config = options.publisher?.config?.clone();
  if (config !== undefined && config.get("server/stable_age") === undefined) config.set("server/stable_age", "0");
  const publisher = await startPublisher({
    ...options.publisher,
    ...(logger ? { logger } : {}),
    config: config ?? { "security/anonymous": 1, "server/stable_age": 0 },
    mounts: [{ location: options.inbox, alias: options.alias ?? "/" }],
  });
  let subscriber: FileMqSubscriber;
  try {
    subscriber = await subscribe(options.upstream, { ...options.subscriber, ...(logger ? { logger } : {}), inbox: options.inbox });
  } catch (error) {
    await publisher.close();
    throw error;
  }
  subscriber.on((event) => {
    if (event.type === "delivered" || event.type === "deleted") publisher.fileChanged(event.path);
  });
  return {
    subscriber,
    publisher,
    bind: (endpoint, callOptions) => publisher.bind(endpoint, callOptions),
    async close() {
      await subscriber.close();
      await publisher.close();
    },
  };
}
