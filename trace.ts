/**
 * Allocation traces: record what a pool is asked to do, parse and replay
 * traces, find the smallest pool a program needs, and measure its
 * fragmentation and speed.
 *
 * @example Record a workload, then size a pool for it
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import { minimumPoolSize, parseTrace, recordTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(1 << 16);
 * const recorder = recordTrace(pool);
 * const kept = pool.allocate(1000)!;
 * pool.allocate(500)!.free();
 * kept.free();
 * await recorder.stop();
 *
 * const { poolSize } = minimumPoolSize(await parseTrace(recorder.toString()));
 * assert.ok(poolSize < 1 << 16);
 * ```
 *
 * @module
 */

export {
  minimumPoolSize,
  type PoolSize,
  type PoolSizeOptions,
  type ReplayOptions,
  type ReplayResult,
  replayTrace,
} from "./src/trace/replay.ts";
export {
  type AnalysisProgress,
  analyzeTrace,
  type AnalyzeTraceOptions,
  type OperationTimes,
  type TraceAnalysis,
} from "./src/trace/analysis.ts";
export {
  parseTrace,
  type ParseTraceOptions,
  type Trace,
  TraceError,
  type TraceInput,
} from "./src/trace/format.ts";
export { recordTrace, type RecordTraceOptions, type TraceRecorder } from "./src/trace/recorder.ts";
