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

import "./src/debug/debug_mode.ts";

export { Block, type TypedArrayConstructor } from "./src/api/block.ts";
export { PoolError, type PoolErrorCode } from "./src/common/errors.ts";
export { heapMap, type HeapMapOptions } from "./src/api/heap_map.ts";
export { type AllocateOptions, type BlockInfo, Pool, type PoolOptions } from "./src/api/pool.ts";
export type { PoolStats } from "./src/engine/stats.ts";
export { type WasmAllocatorFunctions, wasmAllocatorImports } from "./src/api/wasm_imports.ts";
export {
  allocate,
  bytesFree,
  bytesUsed,
  deallocate,
  initPool,
  largestFreeBlock,
} from "./src/api/default_pool.ts";
