// The misuse fuzzer's engine: random operation sequences against a pool,
// mixed with legal and illegal writes into its buffer, and a judge that tells
// the allocator's allowed reactions (success, PoolError, argument errors)
// from failures (other exceptions, hangs, overlapping or out-of-range
// payloads, damage outside the pool, a sound pool that no longer checks).
// Its ordinary operations come from the shared generator (_random_ops.ts)
// and are carried out and judged by the shared model (_oracle.ts); misuse,
// writes and damage are its own. `tools/fuzz.ts` is its command line;
// `tests/fuzz_test.ts` runs it briefly.

import {
  Block,
  type BlockInfo,
  Pool,
  PoolError,
  type PoolErrorCode,
  type PoolStats,
} from "../mod.ts";
import { Flag, FreeField, Size } from "../src/engine/tlsf.ts";
import { Slot } from "../src/engine/runs.ts";
import {
  type Entry,
  MAP_CHUNK,
  Oracle,
  type OracleFailureKind,
  RUN_HEADER,
  type RunSeen,
  THREW,
  walkBlocks,
  withWarmUp,
} from "./_oracle.ts";
import {
  type AlignDraw,
  eitherTier,
  nearClassBoundary,
  nearSlotBoundary,
  OP_KINDS as ORDINARY_KINDS,
  OpGenerator,
  type OpMix,
  Rng,
  RUNS_MIN_POOL,
  type SizeDraw,
  Weighted,
} from "./_random_ops.ts";

const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;

// ── what a run does and reports ────────────────────────────────────────────

/**
 * Operations a step can make, with their relative frequencies: "ordinary"
 * is one from the shared generator (FUZZ_MIX), the rest are the fuzzer's own.
 */
const STEP_OPS = [
  ["ordinary", 50],
  ["stats", 2],
  ["largestFreeBlock", 2],
  ["blocks", 1],
  ["write", 8],
  ["badAllocate", 2],
  ["badResize", 1],
  ["badDeallocate", 2],
  ["useAfterFree", 1],
  ["badFree", 4],
  ["badSizeOf", 1],
] as const;

type StepOp = (typeof STEP_OPS)[number][0];

/**
 * Every kind of operation a report counts, in a fixed order (the CLI's
 * watchdog reads a kind as its index here): the step operations, then
 * `check` (after every step), `illegalWrite` and `freeAll` (freeing every
 * block of a sound pool before it is dropped).
 */
export const OP_KINDS: readonly string[] = [
  ...ORDINARY_KINDS,
  ...STEP_OPS.map(([op]) => op).filter((op) => op !== "ordinary"),
  "check",
  "illegalWrite",
  "freeAll",
];

/** Illegal writes, with their relative frequencies. */
const ILLEGAL_WRITES = [
  ["overflow", 25],
  ["header", 15],
  ["free-link", 12],
  ["footer", 8],
  ["pool-header", 12],
  ["run-header", 12],
  ["run-map", 8],
  ["sentinel", 3],
  ["use-after-free", 10],
  ["random", 15],
] as const;

type IllegalWrite = (typeof ILLEGAL_WRITES)[number][0];

/** Kinds of illegal write, in a fixed order (the watchdog reads a kind as its index here). */
export const ILLEGAL_WRITE_KINDS: readonly string[] = ILLEGAL_WRITES.map(([kind]) => kind);

/** What went wrong in a failure. */
export type FailureKind =
  /** What the shared model finds: overlap, out-of-range, misaligned, contents-changed... */
  | OracleFailureKind
  /** An exception other than PoolError, or an argument error where none was due. */
  | "exception"
  /** An operation that took longer than `slowOpMs`, or never returned. */
  | "hang"
  /** Bytes of the buffer outside the pool's range changed. */
  | "canary"
  /** `check()` failed although no illegal write happened since the pool was made. */
  | "check-failed"
  /** A PoolError from a legal operation on a sound pool. */
  | "spurious-pool-error"
  /** A bad argument that did not throw the TypeError or RangeError due. */
  | "bad-argument-accepted"
  /** A misuse of a sound pool (bad offset, freed handle) that went undetected. */
  | "misuse-undetected"
  /** An error of the wrong class or code for the misuse. */
  | "wrong-error"
  /** The fuzzer itself threw: a bug in this harness. */
  | "fuzzer-error";

/** One failure, with what reproduces it. */
export interface FuzzFailure {
  kind: FailureKind;
  /** Run `fuzz` with this seed and at least `step + 1` steps to see it again. */
  seed: number;
  step: number;
  /** The operation, as a call. */
  op: string;
  message: string;
  /** The top frames of the exception, if one was thrown. */
  stack: string;
  /** Whether the fuzzer believed the pool sound (no illegal write since it was made). */
  sound: boolean;
  /** The first illegal write or accepted misuse on this pool, with its step; "" if none. */
  firstIllegal: string;
  /** The latest one; "" if none. */
  lastIllegal: string;
  /** The pool's size and place. */
  pool: string;
}

/** What a run did and found. */
export interface FuzzReport {
  seed: number;
  steps: number;
  elapsedMs: number;
  corruptionRate: number;
  /** Pools made. */
  pools: number;
  /** Operations by kind (see OP_KINDS). */
  ops: Record<string, number>;
  /** PoolErrors thrown, by code. */
  poolErrors: Record<string, number>;
  /** TypeErrors and RangeErrors thrown for bad arguments, by class. */
  argumentErrors: Record<string, number>;
  /** Illegal writes made, by kind. */
  illegalWrites: Record<string, number>;
  failures: FuzzFailure[];
}

/** How a fuzz run goes. */
export interface FuzzOptions {
  /** Seeds everything random; the same seed gives the same operations. */
  seed: number;
  /** Stop after this many steps. */
  steps?: number;
  /** Stop after this long. Without `steps` or `seconds`, a run is DEFAULT_STEPS steps. */
  seconds?: number;
  /** Probability that a step is an illegal write instead of an operation. Default 0. */
  corruptionRate?: number;
  /** An operation slower than this is reported as a hang. Default 100; Infinity turns it off. */
  slowOpMs?: number;
  /** Stop after this many failures. Default 50. */
  maxFailures?: number;
  /**
   * Shared cells the run keeps up to date for a watchdog on another thread
   * (PROGRESS_CELLS long): see the ProgressCell enum.
   */
  progress?: Int32Array;
  /** From this step on, each operation is described to `log` before it runs. */
  logFrom?: number;
  log?: (line: string) => void;
  /** Called with each failure as it is found, before the run ends. */
  onFailure?: (failure: FuzzFailure) => void;
  /** Makes the pools; tests pass a sabotaged one to see the fuzzer catch it. */
  createPool?: (
    buffer: ArrayBuffer | SharedArrayBuffer,
    byteOffset: number,
    byteLength: number,
  ) => Pool;
}

/** Steps of a run given neither `steps` nor `seconds`. */
export const DEFAULT_STEPS = 10_000;
/** An operation slower than this many ms counts as a hang. */
export const SLOW_OP_MS = 100;
const MAX_FAILURES = 50;
const MS_PER_S = 1000;

/** Indices of the cells in `FuzzOptions.progress`. */
export const enum ProgressCell {
  /** The step running. */
  Step = 0,
  /** Its operation, as an index into OP_KINDS. */
  Op = 1,
  /** 1 while the pool is believed sound. */
  Sound = 2,
  /** Step of the pool's first illegal write, or -1. */
  IllegalStep = 3,
  /** Its kind, as an index into ILLEGAL_WRITE_KINDS, or -1 for an accepted misuse. */
  IllegalKind = 4,
  /** Bytes in the current pool. */
  PoolBytes = 5,
}

/** Cells in `FuzzOptions.progress`. */
export const PROGRESS_CELLS = 6;

/** Runs the fuzzer; see FuzzOptions. */
export function fuzz(options: FuzzOptions): FuzzReport {
  return new Fuzzer(options).run();
}

// ── pools under test ───────────────────────────────────────────────────────

/** Bytes either side of RUNS_MIN_POOL that pools drawn around it may be. */
const AROUND_RUNS = 16 * 1024;
/**
 * Pool sizes, with weights: tiny ones run out of room and take the slow
 * paths; those around RUNS_MIN_POOL have the runs tier or just not.
 */
const POOL_SIZES = [
  [[512, 2048], 20],
  [[2048, 32 * 1024], 35],
  [[32 * 1024, 256 * 1024], 20],
  [[RUNS_MIN_POOL - AROUND_RUNS, RUNS_MIN_POOL + AROUND_RUNS], 20],
  [[1024 * 1024, 1024 * 1024], 5],
] as const;
/** Canary bytes on each side of the pool's range, at least and at most. */
const CANARY_MIN = 8;
/** Requests a class of a new pool has served by blocks before it gets runs (Slot.Warm last). */
const WARM_UPS = [0, 0, 0, 1, 16, Slot.Warm] as const;
const CANARY_MAX = 72;
/** Share of pools over a SharedArrayBuffer. */
const SHARED_SHARE = 0.1;
/** Steps a pool lives, at least and at most. */
const POOL_STEPS_MIN = 300;
const POOL_STEPS_MAX = 3000;
/** Steps a pool lives on after its first illegal write, at least and at most. */
const CORRUPT_STEPS_MIN = 5;
const CORRUPT_STEPS_MAX = 300;
/** Share of sound pools whose blocks are all freed, and the result checked, before they go. */
const FREE_ALL_SHARE = 0.5;
/** Recently freed offsets and handles kept for misuse. */
const FREED_KEPT = 32;
/** Longest write, in bytes. */
const MAX_WRITE = 16;
/** Share of allocations preceded by a largestFreeBlock() to judge a null against. */
const LARGEST_FIRST_SHARE = 0.5;
/** Share of allocations asking for zeroed memory. */
const ZERO_SHARE = 0.25;
/** Share of legal writes made through the block's own view rather than the buffer. */
const VIEW_WRITE_SHARE = 0.5;

/** Allocation sizes, with weights, given the pool's size. */
const SIZE_CLASSES: readonly (readonly [SizeDraw, number])[] = [
  [nearClassBoundary, 5],
  [nearSlotBoundary, 6],
  [eitherTier, 4],
  [() => 0, 10],
  [(rng) => rng.between(1, 64), 35],
  [(rng) => rng.between(65, 1024), 25],
  [(rng, n) => rng.between(1, Math.max(1, n >>> 2)), 12],
  [(rng, n) => rng.between(1, n), 5],
  [(rng, n) => rng.between(n, 2 * n), 3],
  // Past the pool's 32-bit offsets, and near 2^32 where 32-bit arithmetic wraps.
  [(rng) => rng.pick([TWO_POW_32 - 1, TWO_POW_32, TWO_POW_32 + 8, TWO_POW_53 - 1]), 2],
  [(rng) => rng.below(TWO_POW_53), 1],
  // -0 is a valid size 0.
  [() => -0, 1],
];

/** Alignments, with weights; undefined leaves the option out. */
const ALIGNS: readonly (readonly [AlignDraw, number])[] = [
  [() => undefined, 50],
  [(rng) => rng.pick([1, 2, 4, 8]), 10],
  [(rng) => 2 ** rng.between(4, 12), 35],
  [(rng) => 2 ** rng.between(13, 31), 5],
];

/** The fuzzer's ordinary operations: the generator's kinds, with its sizes and alignments. */
const FUZZ_MIX: OpMix = {
  weights: {
    allocate: 12,
    allocateLargest: 2,
    deallocate: 9,
    alloc: 9,
    free: 7,
    resize: 6,
    realloc: 3,
    sizeOf: 2,
  },
  sizes: SIZE_CLASSES,
  aligns: ALIGNS,
  zeroShare: ZERO_SHARE,
  askLargestShare: LARGEST_FIRST_SHARE,
};

/** Sizes that are not whole numbers from 0 to 2^53 - 1, with the error each is due. */
const BAD_SIZES: readonly (readonly [unknown, "TypeError" | "RangeError"])[] = [
  [-1, "RangeError"],
  [-8, "RangeError"],
  [0.5, "RangeError"],
  [12.25, "RangeError"],
  [NaN, "RangeError"],
  [Infinity, "RangeError"],
  [-Infinity, "RangeError"],
  [TWO_POW_53, "RangeError"],
  [2 ** 60, "RangeError"],
  ["16", "TypeError"],
  [null, "TypeError"],
  [undefined, "TypeError"],
  [16n, "TypeError"],
  [{}, "TypeError"],
  [true, "TypeError"],
];

/** Alignments that are not powers of two from 1 to 2^31, with the error each is due. */
const BAD_ALIGNS: readonly (readonly [unknown, "TypeError" | "RangeError"])[] = [
  [0, "RangeError"],
  [3, "RangeError"],
  [6, "RangeError"],
  [12, "RangeError"],
  [24, "RangeError"],
  [-8, "RangeError"],
  [TWO_POW_32, "RangeError"],
  [2 ** 33, "RangeError"],
  [1.5, "RangeError"],
  [NaN, "RangeError"],
  [Infinity, "RangeError"],
  ["8", "TypeError"],
  [null, "TypeError"],
  [8n, "TypeError"],
  [{}, "TypeError"],
];

/** Things that are not a Block, for deallocate() and resize(). */
const NOT_BLOCKS: readonly unknown[] = [null, undefined, {}, 16, "block", { offset: 16 }];
/** Things that are not an offset, for free() and sizeOf(). */
const NOT_OFFSETS: readonly unknown[] = ["16", null, undefined, 16n, {}, [16]];

/** A pool in the middle of a bigger buffer, with everything the fuzzer tracks about it. */
interface Arena {
  readonly pool: Pool;
  /** The shared model: live blocks, their owner map and contents, and the pool's geometry. */
  readonly model: Oracle;
  readonly bytes: Uint8Array;
  /** The pool's range in the buffer. */
  readonly start: number;
  readonly end: number;
  /** Where the blocks begin (the first header) and end (the sentinel). */
  readonly blocksStart: number;
  readonly blocksEnd: number;
  readonly canaryBefore: Uint8Array;
  readonly canaryAfter: Uint8Array;
  readonly freed: number[];
  readonly retired: Block[];
  readonly initial: PoolStats;
  readonly label: string;
  firstIllegal: string;
  lastIllegal: string;
  retireAt: number;
  /** Drop this pool at the next step: after a failure, or damage the fuzzer did itself. */
  broken: boolean;
}

/** What an operation is expected to do. */
type Expect =
  | { readonly kind: "ok" }
  | { readonly kind: "argument"; readonly error: "TypeError" | "RangeError" }
  /** A misuse, to be met with a PoolError of one of `codes` (any code if empty). */
  | { readonly kind: "misuse"; readonly codes: readonly PoolErrorCode[] };

const LEGAL: Expect = { kind: "ok" };
// A bad raw offset may also pass for a block whose neighbours then look damaged: "corrupt".
const BAD_OFFSET: Expect = { kind: "misuse", codes: [] };
const FREED_HANDLE: Expect = { kind: "misuse", codes: ["double-free"] };
const FOREIGN_HANDLE: Expect = { kind: "misuse", codes: ["foreign-block"] };
const USE_AFTER_FREE: Expect = { kind: "misuse", codes: ["use-after-free"] };

/** Frames of an exception's stack kept in a failure. */
const STACK_FRAMES = 3;
/** Bytes of a foreign pool, for foreign-block misuse. */
const FOREIGN_POOL_BYTES = 4096;
/** Bytes of the foreign pool's block. */
const FOREIGN_BLOCK_BYTES = 16;

/** A value as it would appear in a call. */
function show(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  if (value instanceof Block) return `Block@${value.offset}`;
  return JSON.stringify(value) ?? String(value);
}

/** How a call threw, for the log: the error's class, code and message. */
function describeError(error: unknown): string {
  if (error instanceof PoolError) return `PoolError ${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : `threw ${show(error)}`;
}

function stackTop(error: unknown): string {
  if (!(error instanceof Error) || error.stack === undefined) return "";
  return error.stack.split("\n").filter((line) => line.trimStart().startsWith("at "))
    .slice(0, STACK_FRAMES).map((line) =>
      line.trim().replace(/^at /, "").replace(/file:\/\/\S*?\/(src|bench)\//, "$1/")
    )
    .join(" | ");
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

class Fuzzer {
  readonly #options: FuzzOptions;
  readonly #seed: number;
  readonly #rng: Rng;
  readonly #corruptionRate: number;
  readonly #slowOpMs: number;
  readonly #maxFailures: number;
  readonly #progress: Int32Array | undefined;
  readonly #stepOps = new Weighted(STEP_OPS);
  readonly #illegalWrites = new Weighted(ILLEGAL_WRITES);
  readonly #generator: OpGenerator;
  readonly #poolSizes = new Weighted(POOL_SIZES);
  readonly #report: FuzzReport;
  readonly #foreign: Block;
  #arena: Arena | undefined;
  #step = 0;
  /** The operation running, described for failures and the log (only when needed). */
  #op: () => string = () => "";
  #failedKinds = new Set<FailureKind>();

  constructor(options: FuzzOptions) {
    this.#options = options;
    this.#seed = options.seed >>> 0;
    this.#rng = new Rng(this.#seed);
    this.#generator = new OpGenerator(this.#rng, FUZZ_MIX);
    this.#corruptionRate = options.corruptionRate ?? 0;
    this.#slowOpMs = options.slowOpMs ?? SLOW_OP_MS;
    this.#maxFailures = options.maxFailures ?? MAX_FAILURES;
    this.#progress = options.progress;
    this.#report = {
      seed: this.#seed,
      steps: 0,
      elapsedMs: 0,
      corruptionRate: this.#corruptionRate,
      pools: 0,
      ops: Object.fromEntries(OP_KINDS.map((kind) => [kind, 0])),
      poolErrors: {},
      argumentErrors: {},
      illegalWrites: {},
      failures: [],
    };
    this.#foreign = Pool.create(FOREIGN_POOL_BYTES).allocate(FOREIGN_BLOCK_BYTES)!;
  }

  run(): FuzzReport {
    const { steps, seconds } = this.#options;
    const maxSteps = steps ?? (seconds === undefined ? DEFAULT_STEPS : Infinity);
    const began = performance.now();
    const deadline = seconds === undefined ? Infinity : began + seconds * MS_PER_S;
    const report = this.#report;
    let step = 0;
    for (
      ;
      step < maxSteps && report.failures.length < this.#maxFailures &&
      performance.now() < deadline;
      step++
    ) {
      this.#step = step;
      this.#failedKinds.clear();
      if (this.#progress) Atomics.store(this.#progress, ProgressCell.Step, step);
      try {
        const arena = this.#arena;
        if (arena === undefined || arena.broken || step >= arena.retireAt) this.#newArena();
        if (this.#rng.chance(this.#corruptionRate)) this.#illegalWrite();
        else this.#stepOp(this.#stepOps.pick(this.#rng));
        this.#afterStep();
      } catch (error) {
        this.#fail("fuzzer-error", `the fuzzer threw: ${String(error)}`, error);
      }
    }
    report.steps = step;
    report.elapsedMs = performance.now() - began;
    return report;
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────

  get #a(): Arena {
    return this.#arena!;
  }

  #begin(kind: string, description: string | (() => string)): void {
    this.#op = typeof description === "string" ? () => description : description;
    bump(this.#report.ops, kind);
    if (this.#progress) this.#progress[ProgressCell.Op] = OP_KINDS.indexOf(kind);
    const { logFrom, log } = this.#options;
    if (log && logFrom !== undefined && this.#step >= logFrom) {
      log(`step ${this.#step}: ${this.#op()}`);
    }
  }

  #fail(kind: FailureKind, message: string, error?: unknown, dropPool = true): void {
    const arena = this.#arena;
    if (arena && dropPool) arena.broken = true;
    if (this.#failedKinds.has(kind)) return;
    this.#failedKinds.add(kind);
    const failure: FuzzFailure = {
      kind,
      seed: this.#seed,
      step: this.#step,
      op: this.#op(),
      message,
      stack: stackTop(error),
      sound: arena?.model.trusted ?? true,
      firstIllegal: arena?.firstIllegal ?? "",
      lastIllegal: arena?.lastIllegal ?? "",
      pool: arena?.label ?? "",
    };
    this.#report.failures.push(failure);
    this.#options.onFailure?.(failure);
  }

  /** Records that the pool may be damaged from now on. */
  #taint(kind: string, description: string): void {
    const arena = this.#a;
    const what = `step ${this.#step}: ${kind}: ${description}`;
    if (arena.model.trusted) {
      arena.model.trusted = false;
      arena.firstIllegal = what;
      arena.retireAt = Math.min(
        arena.retireAt,
        this.#step + this.#rng.between(CORRUPT_STEPS_MIN, CORRUPT_STEPS_MAX),
      );
      if (this.#progress) {
        this.#progress[ProgressCell.Sound] = 0;
        this.#progress[ProgressCell.IllegalStep] = this.#step;
        this.#progress[ProgressCell.IllegalKind] = ILLEGAL_WRITE_KINDS.indexOf(kind);
      }
    }
    arena.lastIllegal = what;
  }

  /**
   * Runs one allocator operation and judges how it ended. Returns its value,
   * or THREW. A success where an argument error was due is judged here; a
   * success where a misuse error was due is left to the caller, which knows
   * whether the pool was still sound.
   */
  #call<T>(expect: Expect, fn: () => T): T | typeof THREW {
    const began = performance.now();
    let value: T | typeof THREW = THREW;
    let error: unknown;
    try {
      value = fn();
    } catch (e) {
      error = e;
    }
    const took = performance.now() - began;
    const { logFrom, log } = this.#options;
    if (log && logFrom !== undefined && this.#step >= logFrom) {
      log(`  -> ${value === THREW ? describeError(error) : show(value)}`);
    }
    if (took > this.#slowOpMs) {
      this.#fail("hang", `${this.#op()} took ${took.toFixed(0)} ms`, undefined, false);
    }
    if (value === THREW) {
      this.#judgeError(expect, error);
    } else if (expect.kind === "argument") {
      this.#fail("bad-argument-accepted", `returned ${show(value)} instead of a ${expect.error}`);
    }
    return value;
  }

  #judgeError(expect: Expect, error: unknown): void {
    const sound = this.#a.model.trusted;
    if (error instanceof PoolError) {
      bump(this.#report.poolErrors, error.code);
      if (expect.kind === "argument") {
        this.#fail(
          "wrong-error",
          `threw PoolError(${error.code}) instead of a ${expect.error}: ${error.message}`,
          error,
        );
      } else if (expect.kind === "ok" && sound) {
        this.#fail(
          "spurious-pool-error",
          `PoolError(${error.code}) from a sound pool: ${error.message}`,
          error,
        );
      } else if (
        expect.kind === "misuse" && sound && expect.codes.length > 0 &&
        !expect.codes.includes(error.code)
      ) {
        this.#fail(
          "wrong-error",
          `threw PoolError(${error.code}) instead of ${
            expect.codes.join(" or ")
          }: ${error.message}`,
          error,
        );
      }
      return;
    }
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    if (expect.kind === "argument" && (error instanceof TypeError || error instanceof RangeError)) {
      bump(this.#report.argumentErrors, name);
      if (name !== expect.error) {
        this.#fail("wrong-error", `threw ${name} instead of ${expect.error}: ${message}`, error);
      }
      return;
    }
    this.#fail("exception", `${name}: ${message}`, error);
  }

  // ── pools ───────────────────────────────────────────────────────────────

  #newArena(): void {
    const old = this.#arena;
    if (old && old.model.trusted && !old.broken && this.#rng.chance(FREE_ALL_SHARE)) {
      this.#freeAll();
    }
    const rng = this.#rng;
    const [lo, hi] = this.#poolSizes.pick(rng);
    const poolBytes = rng.between(lo, hi);
    const before = rng.between(CANARY_MIN, CANARY_MAX);
    // The buffer's length is a multiple of 4, so that a Uint32Array can cover it.
    const total =
      Math.ceil((before + poolBytes + rng.between(CANARY_MIN, CANARY_MAX)) / Size.Word) *
      Size.Word;
    const buffer = rng.chance(SHARED_SHARE) ? new SharedArrayBuffer(total) : new ArrayBuffer(total);
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < total; i++) bytes[i] = rng.u32() & 0xff;
    const create = this.#options.createPool ??
      ((b, byteOffset, byteLength) => new Pool(b, { byteOffset, byteLength }));
    // Most pools get runs at once; some only after the warm-up a class has by default.
    const pool = withWarmUp(rng.pick(WARM_UPS), () => create(buffer, before, poolBytes));
    const start = pool.byteOffset;
    const end = start + pool.byteLength;
    const initial = pool.stats();
    const model = new Oracle(pool, {
      rng,
      hooks: {
        call: (fn) => this.#call(LEGAL, fn),
        fail: (kind, message) => this.#fail(kind, message),
        begin: (kind, description) => this.#begin(kind, description),
        forget: (e) => this.#forget(e),
      },
    });
    this.#arena = {
      pool,
      model,
      bytes,
      start,
      end,
      blocksStart: model.blocksStart,
      blocksEnd: model.blocksEnd,
      canaryBefore: bytes.slice(0, start),
      canaryAfter: bytes.slice(end),
      freed: [],
      retired: [],
      initial,
      label: `${pool.byteLength}-byte pool at ${start} of a ${total}-byte ${
        buffer instanceof ArrayBuffer ? "ArrayBuffer" : "SharedArrayBuffer"
      }`,
      firstIllegal: "",
      lastIllegal: "",
      retireAt: this.#step + rng.between(POOL_STEPS_MIN, POOL_STEPS_MAX),
      broken: false,
    };
    this.#report.pools++;
    if (this.#progress) {
      this.#progress[ProgressCell.Sound] = 1;
      this.#progress[ProgressCell.IllegalStep] = -1;
      this.#progress[ProgressCell.IllegalKind] = -1;
      this.#progress[ProgressCell.PoolBytes] = pool.byteLength;
    }
  }

  /** Frees every live block of a sound pool and checks it is back to one free block. */
  #freeAll(): void {
    const a = this.#a;
    this.#begin("freeAll", `free all ${a.model.liveBlocks} live blocks`);
    a.model.step = this.#step;
    a.model.freeAll(this.#rng, a.initial);
    if (a.broken) return;
    this.#op = () => "freeAll: check() of the emptied pool";
    this.#call(LEGAL, () => a.pool.check());
  }

  #afterStep(): void {
    const a = this.#a;
    const before = this.#firstDiff(a.bytes, 0, a.canaryBefore);
    const after = this.#firstDiff(a.bytes, a.end, a.canaryAfter);
    if (before >= 0 || after >= 0) {
      const at = before >= 0 ? before : a.end + after;
      this.#fail(
        "canary",
        `byte ${at} of the buffer, ${
          before >= 0 ? "before" : "after"
        } the pool's range [${a.start}, ${a.end}), changed`,
      );
    }
    if (a.broken) return;
    const previous = this.#op;
    this.#begin("check", () => `check() after: ${previous()}`);
    const sound = a.model.trusted;
    const began = performance.now();
    try {
      a.pool.check();
    } catch (error) {
      if (error instanceof PoolError && sound) {
        this.#fail("check-failed", error.message, error);
      } else {
        this.#judgeError(LEGAL, error);
      }
    }
    const took = performance.now() - began;
    if (took > this.#slowOpMs) {
      this.#fail("hang", `check() took ${took.toFixed(0)} ms`, undefined, false);
    }
  }

  #firstDiff(bytes: Uint8Array, at: number, expected: Uint8Array): number {
    for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return i;
    return -1;
  }

  // ── live blocks ─────────────────────────────────────────────────────────

  /** Remembers a block the model dropped as freed, for misuse. */
  #forget(e: Entry): void {
    const a = this.#a;
    this.#remember(a.freed, e.offset);
    if (e.block) this.#remember(a.retired, e.block);
  }

  #remember<T>(ring: T[], item: T): void {
    if (ring.length >= FREED_KEPT) ring[this.#rng.below(FREED_KEPT)] = item;
    else ring.push(item);
  }

  /** A random live handle (true), raw block (false) or either (undefined). */
  #pickLive(handles: boolean | undefined): Entry | undefined {
    const model = this.#a.model;
    const pick = this.#rng.u32();
    return handles === undefined
      ? model.pickAny(pick)
      : handles
      ? model.pickHandle(pick)
      : model.pickRaw(pick);
  }

  /** The live entry whose payload starts at `offset`, if any. */
  #liveAt(offset: number): Entry | undefined {
    const model = this.#a.model;
    const e = model.byId.get(model.owner[offset] ?? 0);
    return e?.offset === offset ? e : undefined;
  }

  /** One ordinary operation, from the shared generator, carried out by the shared model. */
  #ordinary(): void {
    const model = this.#a.model;
    model.step = this.#step;
    model.apply(this.#generator.next(model.state()));
  }

  // ── operations ──────────────────────────────────────────────────────────

  #stepOp(op: StepOp): void {
    switch (op) {
      case "ordinary":
        return this.#ordinary();
      case "stats":
        return this.#stats();
      case "largestFreeBlock":
        return this.#largest();
      case "blocks":
        return this.#blocksOp();
      case "write":
        return this.#legalWrite();
      case "badAllocate":
        return this.#badAllocate();
      case "badResize":
        return this.#badResize();
      case "badDeallocate":
        return this.#badDeallocate();
      case "useAfterFree":
        return this.#useAfterFree();
      case "badFree":
        return this.#badOffset("free");
      case "badSizeOf":
        return this.#badOffset("sizeOf");
    }
  }

  #stats(): void {
    const a = this.#a;
    this.#begin("stats", "stats(), bytesUsed(), bytesFree()");
    const got = this.#call(
      LEGAL,
      () => [a.pool.stats(), a.pool.bytesUsed(), a.pool.bytesFree()] as const,
    );
    if (got === THREW || !a.model.trusted) return;
    const [s, used, free] = got;
    const wrong = [
      s.liveBlocks !== a.model.liveBlocks &&
      `liveBlocks ${s.liveBlocks}, not ${a.model.liveBlocks}`,
      // The blocks' bytes, and the header and tail (under a smallest block) of runs with a live slot.
      (s.bytesUsed < a.model.bytesUsed ||
        s.bytesUsed > a.model.bytesUsed + s.runs * (RUN_HEADER + Size.MinBlock)) &&
      `bytesUsed ${s.bytesUsed}, with ${a.model.bytesUsed} in blocks and ${s.runs} runs`,
      s.metadataBytes !== a.model.metadataBytes &&
      `metadataBytes ${s.metadataBytes}, not the fixed ${a.model.metadataBytes}`,
      a.model.layout.map === 0 && s.runs !== 0 && `${s.runs} runs in a pool too small for them`,
      s.capacity !== a.pool.byteLength && `capacity ${s.capacity}, not ${a.pool.byteLength}`,
      s.bytesUsed + s.bytesFree + s.metadataBytes !== s.capacity &&
      `bytesUsed + bytesFree + metadataBytes = ${s.bytesUsed + s.bytesFree + s.metadataBytes}`,
      s.bytesUsed !== used && `bytesUsed() ${used}, stats ${s.bytesUsed}`,
      s.bytesFree !== free && `bytesFree() ${free}, stats ${s.bytesFree}`,
      s.largestFreeBlock > s.bytesFree && `largestFreeBlock ${s.largestFreeBlock} > bytesFree`,
      s.peakBytesUsed < s.bytesUsed && `peakBytesUsed ${s.peakBytesUsed} < bytesUsed`,
      !(s.fragmentation >= 0 && s.fragmentation <= 1) && `fragmentation ${s.fragmentation}`,
    ].filter((x) => x !== false);
    if (wrong.length > 0) this.#fail("inconsistent", `stats(): ${wrong.join(", ")}`);
  }

  #largest(): void {
    const a = this.#a;
    this.#begin("largestFreeBlock", "largestFreeBlock()");
    const largest = this.#call(LEGAL, () => a.pool.largestFreeBlock());
    if (largest === THREW || !a.model.trusted) return;
    if (!Number.isInteger(largest) || largest < 0 || largest > a.pool.bytesFree()) {
      this.#fail(
        "inconsistent",
        `largestFreeBlock() is ${largest}, bytesFree() ${a.pool.bytesFree()}`,
      );
    }
  }

  /** Every block blocks() yields, or THREW; at most as many as could fit. */
  #blocks(): BlockInfo[] | typeof THREW {
    const a = this.#a;
    const most = Math.ceil((a.end - a.start) / Size.MinBlock);
    return this.#call(LEGAL, () => {
      const out: BlockInfo[] = [];
      for (const b of a.pool.blocks()) {
        out.push(b);
        if (out.length > most) {
          this.#fail("hang", `blocks() yields more than the ${most} blocks that fit in the pool`);
          break;
        }
      }
      return out;
    });
  }

  #blocksOp(): void {
    const a = this.#a;
    this.#begin("blocks", "[...blocks()]");
    const blocks = this.#blocks();
    if (blocks === THREW || !a.model.trusted) return;
    const walk = walkBlocks(blocks, a.blocksStart, a.blocksEnd);
    if (typeof walk === "string") return this.#fail("inconsistent", walk);
    const used = new Set(walk.used.map((u) => u.offset));
    const missing = a.model.entries.find((e) => !used.has(e.offset));
    if (used.size !== a.model.liveBlocks || missing) {
      this.#fail(
        "inconsistent",
        `blocks(): ${used.size} used for ${a.model.liveBlocks} live${
          missing ? `, none at ${missing.offset}` : ""
        }`,
      );
    }
  }

  // ── writes ──────────────────────────────────────────────────────────────

  #randomBytes(n: number): number[] {
    return Array.from({ length: n }, () => this.#rng.u32() & 0xff);
  }

  #word(at: number): number {
    const b = this.#a.bytes;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  #legalWrite(): void {
    const a = this.#a;
    const e = this.#pickLive(undefined);
    if (!e || e.length === 0) return this.#ordinary();
    const from = this.#rng.below(e.length);
    const n = this.#rng.between(1, Math.min(MAX_WRITE, e.length - from));
    const values = this.#randomBytes(n);
    if (e.block && this.#rng.chance(VIEW_WRITE_SHARE)) {
      this.#begin("write", `block.u8.set(${n} bytes, ${from}) into the payload at ${e.offset}`);
      if (this.#call(LEGAL, () => e.block!.u8.set(values, from)) === THREW) return;
      for (let i = 0; i < n; i++) a.model.shadow[e.offset + from + i] = values[i]!;
      return;
    }
    this.#begin("write", `${n} bytes at ${e.offset + from}, inside the payload at ${e.offset}`);
    a.model.write(e.offset + from, values);
  }

  #illegalWrite(): void {
    const a = this.#a;
    const wanted = this.#illegalWrites.pick(this.#rng);
    this.#begin("illegalWrite", `illegal write (${wanted})`);
    // Without a target for the kind wanted (no free block, say), a random write.
    const [kind, at, values, what] = this.#aim(wanted) ?? this.#aim("random")!;
    const bytes = Array.from(values, (v) => v.toString(16).padStart(2, "0")).join(" ");
    const description =
      `${what}: ${values.length} bytes at ${at} (pool [${a.start}, ${a.end})): ${bytes}`;
    const op = `illegal write (${kind}): ${description}`;
    this.#op = () => op;
    if (
      this.#options.log && this.#options.logFrom !== undefined &&
      this.#step >= this.#options.logFrom
    ) {
      this.#options.log(`  ${op}`);
    }
    // A write that lands wholly inside live payloads is legal after all.
    if (a.model.write(at, values)) return;
    bump(this.#report.illegalWrites, kind);
    this.#taint(kind, description);
  }

  /**
   * Where an illegal write of `kind` goes, what it writes and a description;
   * undefined if there is no target for it.
   */
  #aim(kind: IllegalWrite): [IllegalWrite, number, number[], string] | undefined {
    const a = this.#a;
    const rng = this.#rng;
    switch (kind) {
      case "overflow": {
        const e = this.#pickLive(undefined);
        if (!e) break;
        // Past the length asked for, or across the end of the block's capacity.
        const end = e.offset + (rng.chance(1 / 2) ? e.length : e.extent - rng.below(Size.Word));
        return [
          kind,
          end,
          this.#randomBytes(rng.between(1, MAX_WRITE)),
          `past the payload at ${e.offset} (${e.length} bytes)`,
        ];
      }
      case "header":
      case "free-link":
      case "footer": {
        this.#begin("blocks", "[...blocks()] to aim an illegal write");
        const all = this.#blocks();
        if (all === THREW) break;
        // Blocks of the TLSF tier: a slot has no header, and a free one no links or footer.
        const blocks = all.filter((b) => b.blockStart !== b.offset);
        if (blocks.length === 0) break;
        const free = blocks.filter((b) => b.free);
        const b = kind === "header"
          ? rng.pick(blocks)
          : free.length > 0
          ? rng.pick(free)
          : undefined;
        if (!b) break;
        const at = kind === "header"
          ? b.blockStart
          : kind === "footer"
          ? b.blockStart + b.blockSize - FreeField.FooterFromEnd
          : b.blockStart + (rng.chance(1 / 2) ? FreeField.Next : FreeField.Prev);
        const starts = blocks.map((x) => x.blockStart - a.start);
        return [
          kind,
          at,
          this.#wordBytes(this.#mutate(this.#word(at), starts)),
          `${kind} of the ${b.free ? "free" : "used"} block at ${b.blockStart}`,
        ];
      }
      case "run-header":
      case "run-map": {
        this.#begin("blocks", "[...blocks()] to aim an illegal write");
        const all = this.#blocks();
        if (all === THREW || a.model.layout.map === 0) break;
        const walk = walkBlocks(all, a.blocksStart, a.blocksEnd);
        if (typeof walk === "string") break;
        const starts = [...walk.runs.map((r) => r.start), ...walk.free.map((b) => b.blockStart)]
          .map((x) => x - a.start);
        const run: RunSeen | undefined = walk.runs.length > 0 ? rng.pick(walk.runs) : undefined;
        return kind === "run-header" ? this.#aimRunHeader(run, starts) : this.#aimRunMap(run);
      }
      case "pool-header": {
        const words = (a.blocksStart - a.start) / Size.Word;
        const fixed = Size.PoolHeader / Size.Word;
        const word = rng.chance(1 / 2) ? rng.below(fixed) : rng.between(fixed, words - 1);
        const at = a.start + word * Size.Word;
        return [
          kind,
          at,
          this.#wordBytes(this.#mutate(this.#word(at), [])),
          `pool header word ${word}`,
        ];
      }
      case "sentinel":
        return [
          kind,
          a.blocksEnd,
          this.#wordBytes(this.#mutate(this.#word(a.blocksEnd), [])),
          "end sentinel",
        ];
      case "use-after-free": {
        const stale = a.freed.filter((x) =>
          a.model.owner[x] === 0 && x >= a.blocksStart && x < a.blocksEnd
        );
        if (stale.length === 0) break;
        const x = rng.pick(stale);
        return [
          kind,
          x + rng.pick([0, Size.Word]),
          this.#randomBytes(rng.between(1, 2 * Size.Word)),
          `into the freed payload at ${x}`,
        ];
      }
      case "random":
        return [
          kind,
          rng.between(a.start, a.end - 1),
          this.#randomBytes(rng.between(1, 2 * Size.Word)),
          "at random",
        ];
    }
    return undefined;
  }

  /** A word of a run's header: size, check word, info, free or handle bits, links, live bits. */
  #aimRunHeader(
    run: RunSeen | undefined,
    starts: readonly number[],
  ): [IllegalWrite, number, number[], string] | undefined {
    if (!run) return undefined;
    const field = this.#rng.below(RUN_HEADER / Size.Word);
    const at = run.start + field * Size.Word;
    return [
      "run-header",
      at,
      this.#wordBytes(this.#mutate(this.#word(at), starts)),
      `word ${field} of the header of the run of ${run.slot}-byte slots at ${run.start}`,
    ];
  }

  /**
   * A byte of the run map: one that leads to `run` (if any) or any one; made
   * another run's distance, a near one, 0 or anything.
   */
  #aimRunMap(run: RunSeen | undefined): [IllegalWrite, number, number[], string] {
    const a = this.#a;
    const rng = this.#rng;
    const { map, mapBytes } = a.model.layout;
    const chunk = (x: number) => Math.floor((x - a.start) / MAP_CHUNK);
    const g = run && rng.chance(3 / 4)
      ? rng.between(chunk(run.start), chunk(run.start + run.size - 1))
      : rng.below(mapBytes);
    const at = a.start + map + g;
    const old = a.bytes[at]!;
    const value = rng.pick([
      old ^ (1 << rng.below(8)),
      old + rng.pick([-2, -1, 1, 2]),
      0,
      rng.below(256),
      a.bytes[at + rng.pick([-1, 1])] ?? 0,
    ]) & 0xff;
    return ["run-map", at, [value], `the run map's byte for chunk ${g} (was ${old})`];
  }

  #wordBytes(value: number): number[] {
    return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
  }

  /** A plausible wrong value for a metadata word holding `old`; `starts` are block offsets in the pool. */
  #mutate(old: number, starts: readonly number[]): number {
    const rng = this.#rng;
    const poolBytes = this.#a.end - this.#a.start;
    switch (rng.below(9)) {
      case 0:
        return (old ^ (1 << rng.below(32))) >>> 0;
      case 1:
        return (old ^ rng.pick([Flag.Free, Flag.PrevFree, Flag.Free | Flag.PrevFree])) >>> 0;
      case 2:
        return (old + Size.Align * rng.pick([-4, -3, -2, -1, 1, 2, 3, 4])) >>> 0;
      case 3:
        return rng.pick([0, 0xffffffff, 0x80000000, 0xfffffff8]);
      case 4:
        return starts.length > 0 ? rng.pick(starts) : old + Size.Align;
      case 5:
        return rng.pick([poolBytes, poolBytes - Size.Word, poolBytes + Size.Align]);
      case 6:
        return Size.MinBlock + Size.Align * rng.below(poolBytes / Size.Align);
      case 7:
        return old + Size.Word;
      default:
        return rng.u32();
    }
  }

  // ── misuse ──────────────────────────────────────────────────────────────

  #badAllocate(): void {
    const a = this.#a;
    const rng = this.#rng;
    const raw = rng.chance(1 / 2);
    const badSize = rng.chance(1 / 2);
    let size: unknown = rng.between(0, MAX_WRITE);
    let align: unknown;
    let error: "TypeError" | "RangeError";
    if (badSize) [size, error] = rng.pick(BAD_SIZES);
    else [align, error] = rng.pick(BAD_ALIGNS);
    const call = raw
      ? `alloc(${show(size)}${badSize ? "" : `, ${show(align)}`})`
      : `allocate(${show(size)}${badSize ? "" : `, { align: ${show(align)} }`})`;
    this.#begin("badAllocate", call);
    this.#call(
      { kind: "argument", error },
      () =>
        raw
          ? (badSize ? a.pool.alloc(size as number) : a.pool.alloc(size as number, align as number))
          : a.pool.allocate(size as number, badSize ? undefined : { align: align as number }),
    );
  }

  #badResize(): void {
    const a = this.#a;
    const rng = this.#rng;
    const e = this.#pickLive(true);
    const choice = rng.below(4);
    if (choice === 0 && e) {
      const [size, error] = rng.pick(BAD_SIZES);
      this.#begin("badResize", `resize(block at ${e.offset}, ${show(size)})`);
      this.#call({ kind: "argument", error }, () => a.pool.resize(e.block!, size as number));
    } else if (choice === 1 && a.retired.length > 0) {
      const block = rng.pick(a.retired);
      this.#begin("badResize", `resize(freed block at ${block.offset}, 8)`);
      this.#judgeMisuse(
        this.#call(FREED_HANDLE, () => a.pool.resize(block, Size.Align)),
        "resize of a freed block",
      );
    } else if (choice === 2) {
      this.#begin("badResize", "resize(a block of another pool, 8)");
      this.#judgeMisuse(
        this.#call(FOREIGN_HANDLE, () => a.pool.resize(this.#foreign, Size.Align)),
        "resize of a foreign block",
      );
    } else {
      const thing = rng.pick(NOT_BLOCKS);
      this.#begin("badResize", `resize(${show(thing)}, 8)`);
      this.#call(
        { kind: "argument", error: "TypeError" },
        () => a.pool.resize(thing as Block, Size.Align),
      );
    }
  }

  #badDeallocate(): void {
    const a = this.#a;
    const rng = this.#rng;
    const choice = rng.below(3);
    if (choice === 0 && a.retired.length > 0) {
      const block = rng.pick(a.retired);
      const viaBlock = rng.chance(1 / 2);
      this.#begin(
        "badDeallocate",
        `${viaBlock ? "block.free()" : "deallocate(block)"} of the freed block at ${block.offset}`,
      );
      this.#judgeMisuse(
        this.#call(FREED_HANDLE, () => viaBlock ? block.free() : a.pool.deallocate(block)),
        "free of a freed block",
      );
    } else if (choice === 1) {
      this.#begin("badDeallocate", "deallocate(a block of another pool)");
      this.#judgeMisuse(
        this.#call(FOREIGN_HANDLE, () => a.pool.deallocate(this.#foreign)),
        "free of a foreign block",
      );
    } else {
      const thing = rng.pick(NOT_BLOCKS);
      this.#begin("badDeallocate", `deallocate(${show(thing)})`);
      this.#call({ kind: "argument", error: "TypeError" }, () => a.pool.deallocate(thing as Block));
    }
  }

  #useAfterFree(): void {
    const a = this.#a;
    if (a.retired.length === 0) return this.#ordinary();
    const block = this.#rng.pick(a.retired);
    const view = this.#rng.pick(["u8", "f64", "view(Uint8Array)"] as const);
    this.#begin("useAfterFree", `block.${view} of the freed block at ${block.offset}`);
    this.#judgeMisuse(
      this.#call(
        USE_AFTER_FREE,
        () => view === "u8" ? block.u8 : view === "f64" ? block.f64 : block.view(Uint8Array),
      ),
      "a view of a freed block",
    );
  }

  /** A handle misuse that did not throw: never allowed, as handles know whether they are live. */
  #judgeMisuse(got: unknown, what: string): void {
    if (got !== THREW) this.#fail("misuse-undetected", `${what} did not throw`);
  }

  /** free() or sizeOf() of something that is not a live payload. */
  #badOffset(op: "free" | "sizeOf"): void {
    const a = this.#a;
    const rng = this.#rng;
    const e = this.#pickLive(undefined);
    const kind = rng.pick(
      ["freed", "interior", "misaligned", "out-of-range", "not-whole", "not-a-number"] as const,
    );
    let offset: unknown;
    switch (kind) {
      case "freed": {
        const stale = a.freed.filter((x) => this.#liveAt(x) === undefined);
        offset = stale.length > 0 ? rng.pick(stale) : a.start;
        break;
      }
      case "interior":
        offset = e && e.length > Size.Align
          ? e.offset + Size.Align * rng.between(1, Math.floor((e.length - 1) / Size.Align))
          : a.blocksEnd;
        break;
      case "misaligned":
        offset = e ? e.offset + rng.pick([1, 2, 3, 4, 5, 6, 7, -Size.BlockHeader]) : a.start + 1;
        break;
      case "out-of-range":
        offset = rng.pick([
          0,
          a.start - Size.Align,
          a.start,
          a.start + Size.Align * rng.below((a.blocksStart - a.start) / Size.Align),
          a.blocksStart,
          a.blocksEnd,
          a.blocksEnd + Size.Word,
          a.end,
          a.end + Size.Align,
          a.bytes.length + Size.Align,
          -Size.Align,
          TWO_POW_32 + (e?.offset ?? a.start),
          TWO_POW_53 - 1,
          Number.MAX_VALUE,
        ]);
        break;
      case "not-whole":
        offset = rng.pick([(e?.offset ?? a.start) + 1 / 2, NaN, Infinity, -Infinity, -0]);
        break;
      case "not-a-number":
        offset = rng.pick([...NOT_OFFSETS, String(e?.offset ?? a.start)]);
        break;
    }
    const call = `${op}(${show(offset)}) (${kind})`;
    this.#begin(op === "free" ? "badFree" : "badSizeOf", call);
    if (kind === "not-a-number") {
      this.#call(
        { kind: "argument", error: "TypeError" },
        () => op === "free" ? a.pool.free(offset as number) : a.pool.sizeOf(offset as number),
      );
      return;
    }
    const at = offset as number;
    if (Number.isInteger(at) && this.#liveAt(at) !== undefined) return;
    const got = this.#call(BAD_OFFSET, () => op === "free" ? a.pool.free(at) : a.pool.sizeOf(at));
    if (got === THREW) return;
    // Check words make every such offset detectable while the pool is sound.
    if (a.model.trusted) {
      this.#fail(
        "misuse-undetected",
        `${call} ${op === "free" ? "freed a block" : `returned ${show(got)}`}`,
      );
      return;
    }
    if (op === "free") {
      this.#taint("accepted-free", call);
      // The pool now has a bogus free block: what follows would only be its consequences.
      a.broken = true;
    }
  }
}
