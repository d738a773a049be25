/**
 * Describes the machine a benchmark ran on, so that recorded numbers can be compared only with numbers
 * from comparable machines.
 *
 * @packageDocumentation
 */
import os from "node:os";
import type { Json } from "./types.js";

/** Node, V8, CPU and OS of this process, as JSON. */
export function machineInfo(): Json {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    os: `${os.type()} ${os.release()}`,
    platform: process.platform,
    arch: process.arch,
  };
}
