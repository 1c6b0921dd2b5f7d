// The @thi.ng/malloc peer for tools/replay.ts: a trace replayed through its
// MemPool, with the same figures our pool gets.

import { MemPool } from "@thi.ng/malloc";
import { bisectPoolSize, type PoolSize, type PoolSizeOptions } from "../src/trace/replay.ts";
import { OP_ALLOC, OP_FREE, type Trace } from "../src/trace/format.ts";

/** MemPool's block header, a size word and a next-block word in front of each payload. */
const THING_HEADER = 8;
/** MemPool's alignment (the default, and the same as ours). */
const THING_ALIGN = 8;
/** MemPool takes no per-call alignment, so an aligned request asks this much more and skips ahead. */
function paddedFor(size: number, align: number): number {
  return align > THING_ALIGN ? size + align - THING_ALIGN : size;
}

/** Room for the first, unbounded replay; MemPool keeps its offsets in 32 bits. */
const PROBE_BYTES = 2 ** 31;
/** How often, in operations, a slow replay reports progress. */
const PROGRESS_EVERY = 1 << 14;

/** What a replay through MemPool did. */
export interface ThingReplay {
  /** Operations replayed successfully. */
  operations: number;
  /** Index of the operation that found no room, or -1. */
  failedAt: number;
  /** The highest sum of whole blocks (header included) in use, as our `peakBytesUsed`. */
  peakBytesUsed: number;
  /** Bytes before MemPool's first block: its state and alignment. */
  metadataBytes: number;
  /** The furthest any block reached: a pool that ends there makes every decision the same. */
  highWater: number;
}

/** How `replayThing` replays. */
export interface ThingReplayOptions {
  /** Replay only the first `limit` operations. */
  limit?: number;
  /** Per-operation durations in ms, as `replayTrace` takes them. */
  timings?: Float64Array;
  /** Called every few thousand operations with the count done. */
  onProgress?: (done: number) => void;
}

/**
 * Replays `trace` through a MemPool over the first `poolSize` bytes of
 * `buffer`: `a` is `malloc` (over-allocated and skipped ahead for an
 * alignment above 8, which MemPool cannot ask for), `f` is `free`, `r` is
 * `realloc` (for an aligned block, `malloc`, copy and `free`).
 */
export function replayThing(
  trace: Trace,
  buffer: ArrayBuffer,
  poolSize: number,
  options: ThingReplayOptions = {},
): ThingReplay {
  const pool = new MemPool({ buf: buffer, end: poolSize, align: THING_ALIGN });
  const metadataBytes = pool.stats().top;
  const u8 = new Uint8Array(buffer);
  const u32 = new Uint32Array(buffer);
  const wholeAt = (pointer: number) => u32[(pointer - THING_HEADER) >>> 2]!;
  const count = Math.min(trace.length, options.limit ?? trace.length);
  const { timings, onProgress } = options;
  const { ops, ids, newIds, sizes, aligns } = trace;
  // Per id: what malloc returned, and the alignment asked for.
  const pointers = new Float64Array(trace.idCount);
  const blockAligns = new Uint32Array(trace.idCount);
  let used = 0;
  let peak = 0;
  let highWater = 0;
  const reach = (pointer: number) => {
    const end = pointer - THING_HEADER + wholeAt(pointer);
    if (end > highWater) highWater = end;
  };
  let start = 0;
  let i = 0;
  for (; i < count; i++) {
    if (onProgress !== undefined && i % PROGRESS_EVERY === 0) onProgress(i);
    const op = ops[i]!;
    const id = ids[i]!;
    if (op === OP_ALLOC) {
      const align = aligns[i]!;
      // MemPool's malloc(0) fails; a 1-byte request gets the same smallest block.
      const bytes = Math.max(1, paddedFor(sizes[i]!, align));
      if (timings !== undefined) start = performance.now();
      const pointer = pool.malloc(bytes);
      if (timings !== undefined) timings[i] = performance.now() - start;
      if (pointer === 0) break;
      pointers[id] = pointer;
      blockAligns[id] = align;
      used += wholeAt(pointer);
      reach(pointer);
    } else if (op === OP_FREE) {
      const pointer = pointers[id]!;
      used -= wholeAt(pointer);
      if (timings !== undefined) start = performance.now();
      pool.free(pointer);
      if (timings !== undefined) timings[i] = performance.now() - start;
    } else {
      const pointer = pointers[id]!;
      // An r line's alignment replaces the block's, as in replayTrace.
      const align = aligns[i] === 0 ? blockAligns[id]! : aligns[i]!;
      const bytes = Math.max(1, paddedFor(sizes[i]!, align));
      used -= wholeAt(pointer);
      if (timings !== undefined) start = performance.now();
      let moved: number;
      if (align > THING_ALIGN) {
        moved = pool.malloc(bytes);
        if (moved !== 0) {
          const kept = Math.min(bytes, wholeAt(pointer) - THING_HEADER);
          u8.copyWithin(moved, pointer, pointer + kept);
          pool.free(pointer);
        }
      } else {
        moved = pool.realloc(pointer, bytes);
      }
      if (timings !== undefined) timings[i] = performance.now() - start;
      if (moved === 0) break;
      const newId = newIds[i]!;
      pointers[newId] = moved;
      blockAligns[newId] = align;
      used += wholeAt(moved);
      reach(moved);
    }
    if (used > peak) peak = used;
  }
  return {
    operations: i,
    failedAt: i < count ? i : -1,
    peakBytesUsed: peak,
    metadataBytes,
    highWater,
  };
}

/**
 * As `minimumPoolSize`, for MemPool, searching up from `lowerBound`. A first
 * replay with room to spare gives the upper bound: MemPool makes the same
 * choices in any pool that reaches as far as its blocks did there (plus one
 * alignment step, as its in-place `realloc` wants room to spare at the end).
 */
export function thingMinimumPoolSize(
  trace: Trace,
  lowerBound: number,
  options: PoolSizeOptions & { onProgress?: (done: number) => void } = {},
): Omit<PoolSize, "peakLiveBytes" | "peakLiveBlocks"> {
  const probe = replayThing(trace, new ArrayBuffer(PROBE_BYTES), PROBE_BYTES, options);
  let buffer = new ArrayBuffer(0);
  let best: ThingReplay | undefined;
  let trials = 0;
  const search = bisectPoolSize(lowerBound, (poolSize) => {
    if (buffer.byteLength < poolSize) buffer = new ArrayBuffer(poolSize);
    const replay = replayThing(trace, buffer, poolSize, options);
    const fits = replay.failedAt < 0;
    if (fits) best = replay;
    trials++;
    options.onTrial?.(poolSize, fits);
    return fits;
  }, {
    ...options,
    ...(probe.failedAt < 0 ? { upperBound: probe.highWater + THING_ALIGN } : {}),
  });
  return {
    ...search,
    metadataBytes: best!.metadataBytes,
    peakBytesUsed: best!.peakBytesUsed,
    trials,
  };
}
