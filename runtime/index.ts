/**
 * The zproto-ts runtime: what generated code, protocols and tools run on.
 * @packageDocumentation
 */
export * from "./wire/index.js";
export * from "./zpl/index.js";
export * from "./engine/index.js";
