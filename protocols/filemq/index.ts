/**
 * FileMQ (FILEMQ/1, the ZeroMQ Guide's file publish-subscribe): publisher, subscriber and relay, with SASL
 * PLAIN access. See docs/filemq.md.
 * @packageDocumentation
 */
export { startPublisher, publisherActions, FileMqPublisher, MAX_STEPS_PER_EVENT, PEER_QUEUE_LIMIT, type PublisherOptions, type PublisherEvent, type PublisherSession } from "./server.js";
export { subscribe, subscriberActions, FileMqSubscriber, type SubscriberOptions, type SubscriberEvent, type SubscriberState } from "./client.js";
export { startRelay, type RelayOptions, type FileMqRelay } from "./relay.js";
export { Catalog, type Mount, type PublishedFile, type Patch } from "./catalog.js";
export { Inbox, PathRefused, CACHE_FILE } from "./inbox.js";
export { ConfigurationError, readPublisherSettings, type PublisherSettings } from "./server-config.js";
export { pathProblem, joinVirtual, cacheKeyPath, type PathKind } from "./paths.js";
export { CHUNK_SIZE, CREDIT_SLICE, CREDIT_MINIMUM, MAX_OUTSTANDING_CREDIT } from "./flow.js";
