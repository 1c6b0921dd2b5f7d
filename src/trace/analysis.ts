/**
 * Everything a trace says about a pool, in one call: the smallest pool that
 * replays it, its memory factor split into overhead and external
 * fragmentation, and how long each operation takes.
 *
 * @module
 */

import { Pool } from "../api/pool.ts";
import { minimumPoolSize, replayTrace } from "./replay.ts";
import { MAX_POOL_BYTES, Size } from "../engine/tlsf.ts";
import type { Trace } from "./format.ts";
import { checkCallback, checkNumber, checkOptions, describe } from "../common/validate.ts";

/**
 * What `analyzeTrace` is doing, as its `onProgress` callback hears it.
 *
 * @example Sizing trials come first, then the timing replays
 * ```ts
 * import { type AnalysisProgress, analyzeTrace, parseTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const heard: AnalysisProgress[] = [];
 * analyzeTrace(await parseTrace("a 0 100\nf 0\n"), { onProgress: (p) => heard.push(p) });
 * assert.equal(heard[0]!.phase, "sizing");
 * assert.equal(heard.at(-1)!.phase, "timing");
 * ```
 */
export type AnalysisProgress =
  | {
    /** Searching for the smallest pool: a trial replay has just ended. */
    readonly phase: "sizing";
    /** Trial replays made so far. */
    readonly trials: number;
    /** Bytes of the pool the last trial replayed into. */
    readonly poolSize: number;
    /** Whether the trace fit in that pool. */
    readonly fits: boolean;
  }
  | {
    /** Timing operations: called as timing starts and after each replay. */
    readonly phase: "timing";
    /** Timing replays done so far. */
    readonly replays: number;
    /** Timing replays in all. */
    readonly of: number;
  };

/**
 * How `analyzeTrace` measures.
 *
 * @example The memory figures of a trace's first two operations, to the byte
 * ```ts
 * import { analyzeTrace, parseTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const trace = await parseTrace("a 0 100\na 1 100\nf 0\nf 1\n");
 * const firstTwo = analyzeTrace(trace, { limit: 2, tolerance: 0, timing: false });
 * assert.equal(firstTwo.operations, 2);
 * assert.equal(firstTwo.peakLiveBytes, 200);
 * ```
 */
export interface AnalyzeTraceOptions {
  /** Analyze only the first `limit` operations. Default: all of them. */
  limit?: number;
  /** Precision of the minimum pool size, as `PoolSizeOptions.tolerance` (default 0.1%). */
  tolerance?: number;
  /**
   * Time every operation (the `times` of the result). Default true. Timing
   * replays the whole trace several more times, so `false` is much faster
   * when only the memory figures matter.
   */
  timing?: boolean;
  /** The timed pool is this many times the minimum pool size: at least 1, and finite. Default 2. */
  headroom?: number;
  /** Called as the work goes on, for example to show progress on long traces. */
  onProgress?: (progress: AnalysisProgress) => void;
}

/**
 * Per-operation times, in nanoseconds, replayed through a pool with
 * headroom. Every figure is NaN when no operation was replayed.
 *
 * @example The slowest operations, in a pool three times the smallest
 * ```ts
 * import { analyzeTrace, parseTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const { poolSize, times } = analyzeTrace(await parseTrace("a 0 64\nf 0\n"), { headroom: 3 });
 * assert.ok(times.poolSize >= poolSize);
 * assert.ok(times.medianNs <= times.p99Ns && times.p99Ns <= times.p999Ns);
 * assert.ok(times.p999Ns <= times.maxNs);
 * ```
 */
export interface OperationTimes {
  /** Bytes of the pool timed: the minimum pool size times `headroom`. */
  poolSize: number;
  /** The fastest of three untimed replays, divided by its operations. */
  meanNs: number;
  /**
   * Median operation time. Each operation's time is its fastest of three
   * timed replays, less what one timer reading costs, so a one-off
   * interruption (a GC, another process) is not charged to the allocator,
   * while an operation that is slow every time still is.
   */
  medianNs: number;
  /** 99th percentile of the operation times. */
  p99Ns: number;
  /** 99.9th percentile of the operation times. */
  p999Ns: number;
  /** The slowest operation. */
  maxNs: number;
  /**
   * What one `performance.now()` reading adds to a timed operation: the
   * median of many empty intervals, measured the first time anything is
   * timed. It is taken off every operation's time.
   */
  timerCostNs: number;
  /** The timer's smallest step; times are multiples of it, less `timerCostNs`. */
  timerResolutionNs: number;
}

/**
 * What `analyzeTrace` found. The three ratios multiply up (to rounding):
 * `memoryFactor = overhead × (1 + externalFragmentation)`. With no byte
 * ever live they are `Infinity` or `NaN`.
 *
 * @example Where a pool's bytes go
 * ```ts
 * import { analyzeTrace, parseTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const a = analyzeTrace(await parseTrace("a 0 13\na 1 13\nf 0\n"), { timing: false });
 * assert.equal(a.peakLiveBytes, 26);
 * assert.equal(a.peakBytesUsed, 2 * 24); // each 13-byte request takes a 24-byte block
 * assert.equal(a.poolSize, a.metadataBytes + a.peakBytesUsed);
 * ```
 */
export interface TraceAnalysis {
  /** Operations analyzed: the trace's, or the first `limit` of them. */
  operations: number;
  /** The largest sum of requested sizes live at once. */
  peakLiveBytes: number;
  /** The most blocks live at once. */
  peakLiveBlocks: number;
  /** The minimum pool size: bytes of the smallest pool found that replays the trace. */
  poolSize: number;
  /** The pool's own bytes at `poolSize` (its `stats().metadataBytes`), included in `poolSize`. */
  metadataBytes: number;
  /** The highest `bytesUsed()` (live blocks counted whole) while replaying into `poolSize` bytes. */
  peakBytesUsed: number;
  /** `poolSize / peakLiveBytes`: what a pool costs for this trace, per byte it asks for. */
  memoryFactor: number;
  /** `peakBytesUsed / peakLiveBytes`: headers, rounding and smallest blocks. */
  overhead: number;
  /**
   * `poolSize / peakBytesUsed - 1`: the pool's bytes beyond the most its live
   * blocks ever took, as a fraction of those: free space that could not be
   * used, the pool's metadata and the search's slack.
   */
  externalFragmentation: number;
  /** Per-operation times; absent with `timing: false`. */
  times?: OperationTimes;
}

/** `AnalyzeTraceOptions.headroom` by default. */
const DEFAULT_HEADROOM = 2;
/** Untimed replays for the mean; the fastest counts. */
export const UNTIMED_RUNS = 3;
/** Timed replays; each operation counts with its fastest time. */
export const TIMED_RUNS = 3;
/** Empty timer intervals measured to find the timer's own cost. */
export const TIMER_SAMPLES = 200_000;
/** Timer readings are rounded to this many ms (a picosecond) to drop float noise. */
const READING_QUANTUM = 1e-9;
const NS_PER_MS = 1e6;
/** READING_QUANTUM is a picosecond. */
const PS_PER_NS = 1000;

/**
 * Replays a trace to find what a pool costs for it: the smallest pool that
 * replays it (see `minimumPoolSize`), the memory factor that pool gives,
 * split into overhead and external fragmentation, and each operation's
 * time in a pool with headroom.
 *
 * Times are read with `performance.now()` around each operation, which
 * works in browsers, Deno and Node alike. Where the timer is coarse (as
 * browsers make it), the percentiles are multiples of its step: see
 * `OperationTimes.timerResolutionNs`.
 *
 * @param trace A parsed trace.
 * @param options How much of the trace, how precisely, and a progress callback.
 * @returns The figures, with `times`.
 * @throws {TypeError} If an option is of the wrong type.
 * @throws {RangeError} If no pool up to 4 GiB replays the trace, or an option is out of range.
 * @throws {Error} If the trace does not fit in the pool it is timed in, which is bigger than the
 * smallest that fits: a pool that places blocks differently for its size would do this.
 *
 * @example Memory and time
 * ```ts
 * import { analyzeTrace, parseTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const trace = await parseTrace("a 0 100\na 1 40\nr 0 0 300\nf 1\nf 0\n");
 * const { memoryFactor, overhead, externalFragmentation, times } = analyzeTrace(trace);
 * assert.ok(Math.abs(memoryFactor - overhead * (1 + externalFragmentation)) < 1e-12);
 * assert.ok(times.medianNs <= times.p99Ns && times.p99Ns <= times.maxNs);
 * ```
 */
export function analyzeTrace(
  trace: Trace,
  options?: AnalyzeTraceOptions & { timing?: true },
): TraceAnalysis & { times: OperationTimes };
/**
 * The same, and with `timing: false` only the memory figures, without
 * the replays that timing takes.
 *
 * @param trace A parsed trace.
 * @param options How much of the trace, how precisely, whether to time, and a progress callback.
 * @returns The figures, with `times` unless `timing` is false.
 * @throws {TypeError} If an option is of the wrong type.
 * @throws {RangeError} If no pool up to 4 GiB replays the trace, or an option is out of range.
 * @throws {Error} If the trace does not fit in the pool it is timed in, which is bigger than the
 * smallest that fits: a pool that places blocks differently for its size would do this.
 *
 * @example The memory figures alone
 * ```ts
 * import { analyzeTrace, parseTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * // Block 2 does not fit in the hole block 0 leaves, so it goes after block 1.
 * const trace = await parseTrace("# demo\na 0 100\na 1 100\nf 0\na 2 200\n");
 * const analysis = analyzeTrace(trace, { timing: false });
 * assert.equal(analysis.peakLiveBytes, 300);
 * assert.equal(analysis.peakBytesUsed, 112 + 208); // blocks with their 8-byte headers
 * assert.equal(analysis.overhead, 320 / 300);
 * assert.equal(analysis.externalFragmentation, analysis.poolSize / 320 - 1);
 * assert.equal(analysis.times, undefined);
 * ```
 */
export function analyzeTrace(trace: Trace, options: AnalyzeTraceOptions): TraceAnalysis;
export function analyzeTrace(trace: Trace, options: AnalyzeTraceOptions = {}): TraceAnalysis {
  checkOptions(options, "analyzeTrace()'s options", [
    "limit",
    "tolerance",
    "timing",
    "headroom",
    "onProgress",
  ]);
  const { limit, tolerance, headroom = DEFAULT_HEADROOM, onProgress } = options;
  // Checked before the sizing search starts, which takes the other options' own checks.
  checkNumber(headroom, "headroom");
  checkCallback(onProgress, "onProgress");
  if (options.timing !== undefined && typeof options.timing !== "boolean") {
    throw new TypeError(`timing must be true or false, but got ${describe(options.timing)}.`);
  }
  if (!(headroom >= 1 && Number.isFinite(headroom))) {
    throw new RangeError(`headroom must be a finite number of at least 1, but got ${headroom}.`);
  }
  let trials = 0;
  const sizing = minimumPoolSize(trace, {
    ...(limit === undefined ? {} : { limit }),
    ...(tolerance === undefined ? {} : { tolerance }),
    onTrial: (poolSize, fits) =>
      onProgress?.({ phase: "sizing", trials: ++trials, poolSize, fits }),
  });
  const operations = Math.min(limit ?? trace.length, trace.length);
  const analysis: TraceAnalysis = {
    operations,
    peakLiveBytes: sizing.peakLiveBytes,
    peakLiveBlocks: sizing.peakLiveBlocks,
    poolSize: sizing.poolSize,
    metadataBytes: sizing.metadataBytes,
    peakBytesUsed: sizing.peakBytesUsed,
    ...memorySplit(sizing.poolSize, sizing.peakBytesUsed, sizing.peakLiveBytes),
  };
  if (options.timing === false) return analysis;

  const poolSize = Math.max(
    sizing.poolSize,
    Math.floor(Math.min(sizing.poolSize * headroom, MAX_POOL_BYTES) / Size.Align) * Size.Align,
  );
  const buffer = new ArrayBuffer(poolSize);
  const times = timeOperations(operations, (timings) => {
    const { failedAt } = replayTrace(trace, new Pool(buffer), {
      limit: operations,
      ...(timings ? { timings } : {}),
    });
    // A bigger pool than the smallest that fits places blocks differently: it must fit too.
    if (failedAt >= 0) {
      throw new Error(
        `The trace did not fit in the ${poolSize}-byte pool it was timed in (operation ${failedAt}), though it fits in ${sizing.poolSize} bytes.`,
      );
    }
  }, {
    onReplay: (replays, of) => onProgress?.({ phase: "timing", replays, of }),
  });
  return { ...analysis, times: { poolSize, ...times } };
}

/**
 * The memory factor of a pool of `poolSize` bytes for a trace and its two
 * parts, as `TraceAnalysis` defines them. For the replay tool's peers,
 * which must be measured the same way.
 */
export function memorySplit(
  poolSize: number,
  peakBytesUsed: number,
  peakLiveBytes: number,
): Pick<TraceAnalysis, "memoryFactor" | "overhead" | "externalFragmentation"> {
  return {
    memoryFactor: poolSize / peakLiveBytes,
    overhead: peakBytesUsed / peakLiveBytes,
    externalFragmentation: poolSize / peakBytesUsed - 1,
  };
}

/** How `timeOperations` times. */
export interface TimeOperationsOptions {
  /** Untimed replays for the mean, the fastest of which counts. Default 3. */
  untimedRuns?: number;
  /** Called as timing starts and after each replay, with the replays done and in all. */
  onReplay?: (replays: number, of: number) => void;
}

/**
 * Times `operations` operations as `analyzeTrace` does, for any allocator
 * (the replay tool's peers use it too): `replay` replays them all, and when
 * it gets an array, puts each operation's duration in ms there, read with
 * `performance.now()` right around the call, as `ReplayOptions.timings`.
 * The untimed replays go first: they also touch every page the timed ones use.
 */
export function timeOperations(
  operations: number,
  replay: (timings?: Float64Array) => void,
  { untimedRuns = UNTIMED_RUNS, onReplay }: TimeOperationsOptions = {},
): Omit<OperationTimes, "poolSize"> {
  const timer = calibratedTimer();
  const of = untimedRuns + TIMED_RUNS;
  let replays = 0;
  onReplay?.(replays, of);
  let meanNs = Infinity;
  for (let run = 0; run < untimedRuns; run++) {
    meanNs = Math.min(meanNs, timePerOp(operations, () => replay()));
    onReplay?.(++replays, of);
  }
  const fastest = new Float64Array(operations).fill(Infinity);
  const timings = new Float64Array(operations);
  for (let run = 0; run < TIMED_RUNS; run++) {
    replay(timings);
    for (let i = 0; i < operations; i++) {
      if (timings[i]! < fastest[i]!) fastest[i] = timings[i]!;
    }
    onReplay?.(++replays, of);
  }
  return {
    meanNs: operations === 0 ? NaN : meanNs,
    ...percentiles(fastest, timer.cost),
    timerCostNs: inNs(timer.cost),
    timerResolutionNs: inNs(timer.resolution),
  };
}

/** The timer, as measured: what one reading costs and the smallest step it takes (ms). */
interface Timer {
  cost: number;
  resolution: number;
}

let measuredTimer: Timer | undefined;

/** The timer's figures, measured the first time they are needed. */
function calibratedTimer(): Timer {
  return measuredTimer ??= calibrateTimer();
}

/** A timer figure in ns, to the picosecond, without float noise. */
function inNs(ms: number): number {
  return Math.round(ms / READING_QUANTUM) / PS_PER_NS;
}

function quantize(ms: number): number {
  return Math.round(ms / READING_QUANTUM) * READING_QUANTUM;
}

/**
 * Measures `performance.now()`: the median of many empty intervals (two
 * readings with nothing between) is what one reading adds to a timed
 * operation; the smallest difference between two such intervals is its step.
 */
function calibrateTimer(): Timer {
  const samples = new Float64Array(TIMER_SAMPLES);
  for (let i = 0; i < samples.length; i++) {
    const start = performance.now();
    samples[i] = performance.now() - start;
  }
  samples.sort();
  for (let i = 0; i < samples.length; i++) samples[i] = quantize(samples[i]!);
  let resolution = Infinity;
  for (let i = 1; i < samples.length; i++) {
    const step = samples[i]! - samples[i - 1]!;
    if (step > 0 && step < resolution) resolution = step;
  }
  return { cost: samples[samples.length >> 1]!, resolution: quantize(resolution) };
}

/** Percentiles of per-operation timings (ms, each including one timer reading of `cost`) in ns. */
function percentiles(
  timings: Float64Array,
  cost: number,
): Pick<OperationTimes, "medianNs" | "p99Ns" | "p999Ns" | "maxNs"> {
  const sorted = timings.slice().sort();
  const at = (fraction: number) => {
    if (sorted.length === 0) return NaN;
    const ms = sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
    return inNs(Math.max(0, ms - cost));
  };
  return { medianNs: at(0.5), p99Ns: at(0.99), p999Ns: at(0.999), maxNs: at(1) };
}

/** Runs `replay` and returns its time per operation in ns. */
function timePerOp(operations: number, replay: () => void): number {
  const start = performance.now();
  replay();
  return ((performance.now() - start) * NS_PER_MS) / Math.max(1, operations);
}
