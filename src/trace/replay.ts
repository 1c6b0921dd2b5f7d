/**
 * Replaying allocation traces through a pool, and finding the smallest pool
 * that replays a trace without running out.
 *
 * @module
 */

import { Pool } from "../api/pool.ts";
import { MAX_POOL_BYTES, metadataBytes, rowsFor, Size } from "../engine/tlsf.ts";
import { OP_ALLOC, OP_FREE, type Trace } from "./format.ts";
import { checkCallback, checkNumber, checkOptions, describe } from "../common/validate.ts";

/** How `replayTrace` replays. */
export interface ReplayOptions {
  /** Replay only the first `limit` operations. Default: all of them. */
  limit?: number;
  /**
   * Where to put each operation's duration, in milliseconds: entry `i` for
   * operation `i`. It is the difference of two `performance.now()` readings
   * taken right around the pool call, so it includes the cost of one reading.
   * Leave it out for a replay without timing.
   */
  timings?: Float64Array;
}

/** What `replayTrace` did. */
export interface ReplayResult {
  /** Operations replayed successfully. */
  operations: number;
  /** Index of the operation that found no room in the pool, or -1 when none failed. */
  failedAt: number;
  /** The largest sum of requested sizes live at once. */
  peakLiveBytes: number;
  /** The most blocks live at once. */
  peakLiveBlocks: number;
}

/**
 * Replays a trace through a pool's raw interface: `a` is `pool.alloc`
 * (with the line's alignment, if any), `f` is `pool.free`, and `r` is
 * `pool.realloc`, which grows in place when it can, with the line's
 * alignment if it gives one and otherwise the block's alignment so far.
 * It stops at the first operation that finds no room. Blocks still live at
 * the end (or at the failure) stay allocated, so the pool shows the state
 * the trace leaves.
 *
 * @param trace A parsed trace.
 * @param pool The pool to replay into; a fresh one, for figures about the trace alone.
 * @param options How much to replay, and where to put per-operation timings.
 * @returns How far the replay got and the trace's peak live bytes and blocks.
 * @throws {TypeError} If `options.limit` is not a number or `options.timings` not a `Float64Array`.
 * @throws {RangeError} If `options.limit` is not a whole number, or `options.timings`
 * has no room for every operation replayed.
 *
 * @example
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import { parseTrace, replayTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const trace = await parseTrace("a 0 100\na 1 50\nf 0\nr 1 1 400\n");
 * const pool = Pool.create(4096);
 * const result = replayTrace(trace, pool);
 * assert.equal(result.failedAt, -1);
 * assert.equal(result.peakLiveBytes, 400);
 * assert.equal(pool.stats().liveBlocks, 1);
 *
 * const tooBig = await parseTrace("a 0 100\nr 0 0 100000\n");
 * assert.equal(replayTrace(tooBig, Pool.create(4096)).failedAt, 1);
 * ```
 */
export function replayTrace(trace: Trace, pool: Pool, options: ReplayOptions = {}): ReplayResult {
  checkOptions(options, "replayTrace()'s options", ["limit", "timings"]);
  const count = countOf(trace, options.limit);
  const timings = options.timings;
  if (timings !== undefined && !(timings instanceof Float64Array)) {
    throw new TypeError(`timings must be a Float64Array, but got ${describe(timings)}.`);
  }
  if (timings !== undefined && timings.length < count) {
    throw new RangeError(
      `timings has room for ${timings.length} operations, but ${count} are replayed.`,
    );
  }
  const { ops, ids, newIds, sizes, aligns } = trace;
  // Per id, while live: payload offset, requested size, alignment.
  const offsets = new Float64Array(trace.idCount);
  const lengths = new Float64Array(trace.idCount);
  const blockAligns = new Uint32Array(trace.idCount);
  let live = 0;
  let liveBlocks = 0;
  let peakLive = 0;
  let peakBlocks = 0;
  let start = 0;
  let i = 0;
  for (; i < count; i++) {
    const op = ops[i]!;
    const id = ids[i]!;
    if (op === OP_ALLOC) {
      const size = sizes[i]!;
      const align = aligns[i]!;
      if (timings !== undefined) start = performance.now();
      const offset = align === 0 ? pool.alloc(size) : pool.alloc(size, align);
      if (timings !== undefined) timings[i] = performance.now() - start;
      if (offset === 0) break;
      offsets[id] = offset;
      lengths[id] = size;
      blockAligns[id] = Math.max(align, Size.Align);
      live += size;
      if (++liveBlocks > peakBlocks) peakBlocks = liveBlocks;
    } else if (op === OP_FREE) {
      const offset = offsets[id]!;
      if (timings !== undefined) start = performance.now();
      pool.free(offset);
      if (timings !== undefined) timings[i] = performance.now() - start;
      live -= lengths[id]!;
      liveBlocks--;
    } else {
      const size = sizes[i]!;
      const align = aligns[i] === 0 ? blockAligns[id]! : Math.max(aligns[i]!, Size.Align);
      if (timings !== undefined) start = performance.now();
      const offset = pool.realloc(offsets[id]!, size, align);
      if (timings !== undefined) timings[i] = performance.now() - start;
      if (offset === 0) break;
      live += size - lengths[id]!;
      const newId = newIds[i]!;
      offsets[newId] = offset;
      lengths[newId] = size;
      blockAligns[newId] = align;
    }
    if (live > peakLive) peakLive = live;
  }
  return {
    operations: i,
    failedAt: i < count ? i : -1,
    peakLiveBytes: peakLive,
    peakLiveBlocks: peakBlocks,
  };
}

/** How `minimumPoolSize` searches. */
export interface PoolSizeOptions {
  /**
   * How close the answer must be: the search stops once the smallest size
   * that worked is at most this fraction above the largest that failed.
   * Default 0.001 (0.1%): the search's slack counts as external
   * fragmentation, so it should be well below the fragmentation measured.
   * 0 searches to the byte (in steps of 8).
   */
  tolerance?: number;
  /** Size the pool for the first `limit` operations only. Default: all of them. */
  limit?: number;
  /** Called after each trial replay, for example to show progress. */
  onTrial?: (poolSize: number, fits: boolean) => void;
}

/** What `minimumPoolSize` found. */
export interface PoolSize {
  /** Bytes of the smallest pool found that replays the trace with no failed allocation. */
  poolSize: number;
  /** Bytes of the largest pool that failed, or 0 when even the smallest possible one fits. */
  failedSize: number;
  /** The pool's own bytes at `poolSize` (its `stats().metadataBytes`), included in `poolSize`. */
  metadataBytes: number;
  /** The highest `bytesUsed()` while replaying into the pool of `poolSize` bytes. */
  peakBytesUsed: number;
  /** The largest sum of requested sizes live at once. */
  peakLiveBytes: number;
  /** The most blocks live at once. */
  peakLiveBlocks: number;
  /** Replays the search made. */
  trials: number;
}

/** `PoolSizeOptions.tolerance` by default. */
export const DEFAULT_TOLERANCE = 0.001;
/** How much the upper bound grows while looking for a pool that fits. */
const GROWTH = 1.25;

/**
 * Finds the smallest pool that replays a trace (see `replayTrace`) without
 * a failed allocation, by replaying it into pools of different sizes: up
 * from a lower bound until one fits, then by bisection until the answer is
 * within `tolerance` of a size that failed. Its ratio to `peakLiveBytes` is
 * the trace's memory factor on this allocator.
 *
 * The bisection assumes that a pool which fits the trace still fits it with
 * more bytes, which holds for all practical purposes, not by proof; the
 * answer is always a size that was seen to fit.
 *
 * @param trace A parsed trace.
 * @param options The precision, how much of the trace, and a progress callback.
 * @returns The pool size and what the replay at that size used.
 * @throws {TypeError} If an option is of the wrong type.
 * @throws {RangeError} If no pool up to 4 GiB replays the trace, or an option is out of range.
 *
 * @example Ten blocks of 100 bytes need ten 112-byte blocks plus the pool's metadata
 * ```ts
 * import { minimumPoolSize, parseTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const lines = Array.from({ length: 10 }, (_, id) => `a ${id} 100\n`);
 * const size = minimumPoolSize(await parseTrace(lines.join("")), { tolerance: 0 });
 * assert.equal(size.peakBytesUsed, 10 * 112);
 * assert.equal(size.poolSize, size.metadataBytes + 10 * 112);
 * ```
 */
export function minimumPoolSize(trace: Trace, options: PoolSizeOptions = {}): PoolSize {
  checkOptions(options, "minimumPoolSize()'s options", ["tolerance", "limit", "onTrial"]);
  const count = countOf(trace, options.limit);
  checkCallback(options.onTrial, "onTrial");
  const peaks = livePeaks(trace, count);
  // Every live block holds its request and is at least a smallest block; a pool has one block.
  const need = Math.max(peaks.peakLiveBytes, peaks.peakLiveBlocks * Size.MinBlock, Size.MinBlock);
  let buffer = new ArrayBuffer(0);
  let trials = 0;
  let best: { metadataBytes: number; peakBytesUsed: number } | undefined;
  const search = bisectPoolSize(need + metadataBytes(rowsFor(need)), (poolSize) => {
    if (buffer.byteLength < poolSize) buffer = new ArrayBuffer(poolSize);
    const pool = new Pool(buffer, { byteLength: poolSize });
    const fits = replayTrace(trace, pool, { limit: count }).failedAt < 0;
    trials++;
    if (fits) {
      const { metadataBytes, peakBytesUsed } = pool.stats();
      best = { metadataBytes, peakBytesUsed };
    }
    options.onTrial?.(poolSize, fits);
    return fits;
  }, options);
  return { ...search, ...best!, ...peaks, trials };
}

/**
 * The search behind `minimumPoolSize`, for any allocator: the smallest
 * pool size, a multiple of 8 from `lowerBound` up to 4 GiB, for which
 * `fits` says yes, to within `tolerance` (as `PoolSizeOptions.tolerance`).
 * An `upperBound` expected to fit spares the search for one; without it,
 * or if it does not fit, the search grows from `lowerBound` until a size
 * fits. The last call to `fits` that said yes was for the size returned.
 */
export function bisectPoolSize(
  lowerBound: number,
  fits: (poolSize: number) => boolean,
  { tolerance = DEFAULT_TOLERANCE, upperBound }: { tolerance?: number; upperBound?: number } = {},
): { poolSize: number; failedSize: number } {
  checkNumber(tolerance, "tolerance");
  if (!(tolerance >= 0 && tolerance < Infinity)) {
    throw new RangeError(`tolerance must be a finite number of 0 or more, but got ${tolerance}.`);
  }
  let lo = roundUp(lowerBound);
  if (fits(lo)) return { poolSize: lo, failedSize: 0 };
  let hi = Math.min(roundUp(upperBound ?? lo), MAX_POOL_BYTES);
  if (hi > lo && fits(hi)) {
    // The answer is often just below a good upper bound: step down from it,
    // one tolerance first, then doubling, until a size fails.
    for (let step = Math.max(tolerance, Number.EPSILON);; step *= 2) {
      const below = Math.max(roundDown(hi / (1 + step)), lo);
      if (below <= lo || !fits(below)) {
        lo = Math.max(lo, below);
        break;
      }
      hi = below;
    }
  } else {
    hi = lo;
    for (;;) {
      if (hi === MAX_POOL_BYTES) {
        throw new RangeError("The trace does not fit in a pool of 4 GiB, the largest there is.");
      }
      hi = Math.min(roundUp(hi * GROWTH), MAX_POOL_BYTES);
      if (fits(hi)) break;
      lo = hi;
    }
  }
  while (hi - lo > Size.Align && hi > lo * (1 + tolerance)) {
    const mid = roundUp((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return { poolSize: hi, failedSize: lo };
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / Size.Align) * Size.Align;
}

function roundDown(bytes: number): number {
  return Math.floor(bytes / Size.Align) * Size.Align;
}

function countOf(trace: Trace, limit: number | undefined): number {
  if (limit === undefined) return trace.length;
  checkNumber(limit, "limit");
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a whole number of operations, but got ${limit}.`);
  }
  return Math.min(limit, trace.length);
}

/**
 * Peak live bytes and blocks of the first `count` operations, without a
 * pool: what `replayTrace` reports of a replay that does not fail, for
 * sizing a pool before replaying into it.
 */
export function livePeaks(
  trace: Trace,
  count: number = trace.length,
): { peakLiveBytes: number; peakLiveBlocks: number } {
  const { ops, ids, newIds, sizes } = trace;
  const lengths = new Float64Array(trace.idCount);
  let live = 0;
  let liveBlocks = 0;
  let peakLiveBytes = 0;
  let peakLiveBlocks = 0;
  for (let i = 0; i < count; i++) {
    const op = ops[i]!;
    const id = ids[i]!;
    if (op === OP_ALLOC) {
      lengths[id] = sizes[i]!;
      live += sizes[i]!;
      if (++liveBlocks > peakLiveBlocks) peakLiveBlocks = liveBlocks;
    } else if (op === OP_FREE) {
      live -= lengths[id]!;
      liveBlocks--;
    } else {
      live += sizes[i]! - lengths[id]!;
      lengths[newIds[i]!] = sizes[i]!;
    }
    if (live > peakLiveBytes) peakLiveBytes = live;
  }
  return { peakLiveBytes, peakLiveBlocks };
}
