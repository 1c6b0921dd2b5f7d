/**
 * A constant-time memory allocator over an `ArrayBuffer`,
 * `SharedArrayBuffer` or `WebAssembly.Memory`: `malloc` and `free` for
 * JavaScript, with no garbage and no GC pauses.
 *
 * @example
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(1 << 16);
 * const block = pool.allocate(1024)!;
 * block.f64.fill(1);
 * assert.equal(pool.bytesUsed(), 1032);
 * block.free();
 * ```
 *
 * @module
 */

export { Block, type TypedArrayConstructor } from "./src/block.ts";
export { PoolError, type PoolErrorCode } from "./src/errors.ts";
export { heapMap, type HeapMapOptions } from "./src/heap_map.ts";
export { type AllocateOptions, type BlockInfo, Pool, type PoolOptions } from "./src/pool.ts";
export type { PoolStats } from "./src/stats.ts";
export {
  minimumPoolSize,
  type PoolSize,
  type PoolSizeOptions,
  type ReplayOptions,
  type ReplayResult,
  replayTrace,
} from "./src/replay.ts";
export {
  type AnalysisProgress,
  analyzeTrace,
  type AnalyzeTraceOptions,
  type OperationTimes,
  type TraceAnalysis,
} from "./src/trace_analysis.ts";
export {
  parseTrace,
  type ParseTraceOptions,
  type Trace,
  TraceError,
  type TraceInput,
} from "./src/trace_format.ts";
export { recordTrace, type RecordTraceOptions, type TraceRecorder } from "./src/trace_recorder.ts";
export {
  allocate,
  bytesFree,
  bytesUsed,
  deallocate,
  initPool,
  largestFreeBlock,
} from "./src/default_pool.ts";
