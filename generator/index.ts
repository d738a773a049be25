/**
 * The zproto-ts model compiler: load and check models, normalise them, emit TypeScript.
 * @packageDocumentation
 */
export { loadModel, loadModelOrThrow, loadCodecModel, type ModelKind, type LoadOptions, type LoadResult } from "./model.js";
export { generate, planFiles, type GenerateOptions, type GenerateResult, type PlannedFile, type RuntimeLocation } from "./generate.js";
export { emitCodec, type EmitOptions } from "./emit-codec.js";
export { codecSchema } from "./schema.js";
export { grammar } from "./grammar.js";
export { formatDiagnostic, ModelError, type Diagnostic, type Location, type Severity } from "./diagnostics.js";
export type { CodecIR, MessageIR, FieldIR, DefineIR } from "./ir.js";
export { emitMachine, machineTable, type MachineEmitOptions } from "./emit-machine.js";
export { buildMachineModel } from "./machine-model.js";
export type { MachineIR, StateIR, HandlerIR, ActionIR, MethodIR, ReplyIR, EventIR, StepIR } from "./ir.js";
export { skeleton, planSkeleton, emitSkeleton, type SkeletonOptions, type SkeletonResult, type SkeletonStatus } from "./skeleton.js";
export { relativeModule } from "./module-path.js";
export { convertModel, type ConvertResult } from "./convert.js";
export { MODEL_LIMITS, type ModelSyntax, type ModelFileOptions } from "./load.js";
