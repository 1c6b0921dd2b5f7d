// The soak test: millions of allocations, frees and resizes on a pool kept
// 90-100% full, every block's contents verified when it is freed, check()
// along the way, and at the end every block freed and the pool back to one
// free block. Run `deno task soak -- --help`.

import assert from "node:assert/strict";
import { cliArgs, parseCli, runCli, UsageError } from "./_cli_args.ts";
import { Progress } from "./_progress.ts";
import { type Block, Pool, type PoolStats } from "../mod.ts";
import { Size } from "../src/engine/tlsf.ts";
import { Rng } from "./_fuzz_engine.ts";

const DEFAULT_OPS = 10_000_000;
const DEFAULT_POOL_BYTES = 8 * 1024 * 1024;
const DEFAULT_CHECK_EVERY = 100_000;
/** The pool is kept at least this full, by bytesUsed / (bytesUsed + bytesFree). */
const LOW_FILL = 0.9;
/** Shares of allocations made through handles, with an alignment, and of resizes among them. */
const HANDLE_SHARE = 0.1;
const ALIGNED_SHARE = 0.1;
const RESIZE_SHARE = 0.05;
/** Alignments of aligned allocations: 2^4 to 2^8. */
const ALIGN_LOG2_MIN = 4;
const ALIGN_LOG2_MAX = 8;
/** Request sizes, with weights: mostly small, some large enough to fragment the pool. */
const SIZE_CLASSES = [
  [0, 256, 70],
  [257, 4096, 25],
  [4097, 65536, 5],
] as const;
const PROGRESS_EVERY = 250_000;
const MS_PER_S = 1000;
const PERCENT = 100;

const USAGE = `Usage: deno task soak -- [options]

Allocates until the pool is ${LOW_FILL * PERCENT}% full, then alternates frees and allocations
of random sizes (some through handles, some aligned, some resizes) to keep it
between ${LOW_FILL * PERCENT}% and 100% full. Every block is filled with its own pattern,
verified when it is freed or resized; check() runs every --check-every
operations and at the end, after every block is freed, when the pool must
be one free block again with its first stats (counters aside).

Options:
  --ops N          operations: allocations, frees and resizes (default ${DEFAULT_OPS})
  --seed N         seed, 0 to 2^32 - 1 (default: random)
  --pool-bytes N   the pool's size (default ${DEFAULT_POOL_BYTES})
  --check-every N  operations between check()s (default ${DEFAULT_CHECK_EVERY})
  -h, --help       show this text`;
const HINT = "Usage: deno task soak -- [options]; -h for the options.";

/** The blocks the soak holds, in parallel arrays so that freeing a random one is O(1). */
class LiveSet {
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];
  readonly tags: number[] = [];
  readonly handles: (Block | null)[] = [];

  get size(): number {
    return this.offsets.length;
  }

  add(offset: number, length: number, tag: number, handle: Block | null): void {
    this.offsets.push(offset);
    this.lengths.push(length);
    this.tags.push(tag);
    this.handles.push(handle);
  }

  remove(i: number): void {
    const last = this.size - 1;
    this.offsets[i] = this.offsets[last]!;
    this.lengths[i] = this.lengths[last]!;
    this.tags[i] = this.tags[last]!;
    this.handles[i] = this.handles[last]!;
    this.offsets.pop();
    this.lengths.pop();
    this.tags.pop();
    this.handles.pop();
  }
}

/**
 * A block's pattern: word i of its payload holds `tag + i`, and the bytes
 * past the last whole word the low bytes of the next such word. Varying
 * with i, it shows a shifted copy; varying with the tag, a mixed-up block.
 */
class Patterns {
  readonly #u32: Uint32Array;
  readonly #u8: Uint8Array;

  constructor(buffer: ArrayBufferLike) {
    this.#u32 = new Uint32Array(buffer);
    this.#u8 = new Uint8Array(buffer);
  }

  fill(offset: number, length: number, tag: number): void {
    const words = length >>> 2;
    const w = offset >>> 2;
    for (let i = 0; i < words; i++) this.#u32[w + i] = tag + i;
    const last = tag + words;
    for (let j = 0; j < (length & (Size.Word - 1)); j++) {
      this.#u8[offset + words * Size.Word + j] = last >>> (j * 8);
    }
  }

  /** The index of the first byte of `length` at `offset` off the pattern of `tag`, or -1. */
  mismatch(offset: number, length: number, tag: number): number {
    const words = length >>> 2;
    const w = offset >>> 2;
    for (let i = 0; i < words; i++) {
      if (this.#u32[w + i] !== ((tag + i) >>> 0)) return i * Size.Word;
    }
    const last = tag + words;
    for (let j = 0; j < (length & (Size.Word - 1)); j++) {
      if (this.#u8[offset + words * Size.Word + j] !== ((last >>> (j * 8)) & 0xff)) {
        return words * Size.Word + j;
      }
    }
    return -1;
  }
}

interface SoakOptions {
  ops: number;
  seed: number;
  poolBytes: number;
  checkEvery: number;
}

interface SoakResult {
  allocations: number;
  frees: number;
  resizes: number;
  failedAllocations: number;
  /** Resizes that found no room (the pool does not count these as failed allocations). */
  failedResizes: number;
  checks: number;
  peakLiveBlocks: number;
  /** Lowest and highest fill after the pool first reached LOW_FILL. */
  minFill: number;
  maxFill: number;
  /** Operations after warm-up that began with the pool at least LOW_FILL full. */
  inBand: number;
  afterWarmUp: number;
  elapsedMs: number;
}

function soak(options: SoakOptions, progress: (op: number, fill: number) => void): SoakResult {
  const rng = new Rng(options.seed);
  const pool = Pool.create(options.poolBytes);
  const initial = pool.stats();
  const patterns = new Patterns(pool.buffer);
  const live = new LiveSet();
  const result: SoakResult = {
    allocations: 0,
    frees: 0,
    resizes: 0,
    failedAllocations: 0,
    failedResizes: 0,
    checks: 0,
    peakLiveBlocks: 0,
    minFill: 1,
    maxFill: 0,
    inBand: 0,
    afterWarmUp: 0,
    elapsedMs: 0,
  };
  const totalWeight = SIZE_CLASSES.reduce((sum, [, , weight]) => sum + weight, 0);
  const randomSize = (): number => {
    let r = rng.below(totalWeight);
    for (const [lo, hi, weight] of SIZE_CLASSES) {
      if (r < weight) return rng.between(lo, hi);
      r -= weight;
    }
    return 0;
  };
  const fill = (): number => {
    const used = pool.bytesUsed();
    return used / (used + pool.bytesFree());
  };
  const check = (op: number): void => {
    pool.check();
    assert.equal(pool.stats().liveBlocks, live.size, `liveBlocks after op ${op}`);
    result.checks++;
  };
  const verify = (i: number, length: number, op: number, what: string): void => {
    const at = patterns.mismatch(live.offsets[i]!, length, live.tags[i]!);
    if (at >= 0) {
      assert.fail(
        `op ${op}: ${what}: byte ${at} of the block at ${live.offsets[i]} (${
          live.lengths[i]
        } bytes) is off its pattern`,
      );
    }
  };

  const allocate = (op: number): boolean => {
    const size = randomSize();
    const align = rng.chance(ALIGNED_SHARE) ? 2 ** rng.between(ALIGN_LOG2_MIN, ALIGN_LOG2_MAX) : 0;
    let offset: number;
    let handle: Block | null = null;
    if (rng.chance(HANDLE_SHARE)) {
      handle = align === 0 ? pool.allocate(size) : pool.allocate(size, { align });
      offset = handle?.offset ?? 0;
    } else {
      offset = align === 0 ? pool.alloc(size) : pool.alloc(size, align);
    }
    if (offset === 0) {
      result.failedAllocations++;
      return false;
    }
    assert.equal(offset % Math.max(align, Size.Align), 0, `op ${op}: misaligned payload ${offset}`);
    const tag = rng.u32();
    patterns.fill(offset, size, tag);
    live.add(offset, size, tag, handle);
    result.allocations++;
    if (live.size > result.peakLiveBlocks) result.peakLiveBlocks = live.size;
    return true;
  };

  const free = (op: number): void => {
    const i = rng.below(live.size);
    verify(i, live.lengths[i]!, op, "free");
    const handle = live.handles[i];
    if (handle) handle.free();
    else pool.free(live.offsets[i]!);
    live.remove(i);
    result.frees++;
  };

  /** Resizes a random handle's block; false if there is none or no room. */
  const resize = (op: number): boolean => {
    const i = rng.below(live.size);
    const handle = live.handles[i];
    if (!handle) return false;
    const size = randomSize();
    verify(i, live.lengths[i]!, op, "before a resize");
    if (!pool.resize(handle, size)) {
      result.failedResizes++;
      return false;
    }
    live.offsets[i] = handle.offset;
    verify(i, Math.min(live.lengths[i]!, size), op, "after a resize");
    live.lengths[i] = size;
    patterns.fill(handle.offset, size, live.tags[i]!);
    result.resizes++;
    return true;
  };

  const began = performance.now();
  let warm = false;
  let freeNext = false;
  for (let op = 0; op < options.ops; op++) {
    const f = fill();
    if (!warm && f >= LOW_FILL) warm = true;
    if (warm) {
      result.afterWarmUp++;
      if (f >= LOW_FILL) result.inBand++;
      if (f < result.minFill) result.minFill = f;
      if (f > result.maxFill) result.maxFill = f;
    }
    // Below the band, allocate; in it, alternate; after a failed allocation, free.
    if (live.size > 0 && (f >= LOW_FILL && freeNext)) {
      free(op);
      freeNext = false;
    } else if (live.size > 0 && rng.chance(RESIZE_SHARE) && resize(op)) {
      freeNext = true;
    } else {
      allocate(op);
      freeNext = true;
    }
    if ((op + 1) % options.checkEvery === 0) check(op);
    if ((op + 1) % PROGRESS_EVERY === 0) progress(op + 1, f);
  }
  check(options.ops);

  // Free everything: the pool must be as it began, apart from its counters.
  while (live.size > 0) free(options.ops);
  check(options.ops);
  result.elapsedMs = performance.now() - began;
  const final = pool.stats();
  const counters: (keyof PoolStats)[] = [
    "peakBytesUsed",
    "allocations",
    "frees",
    "failedAllocations",
  ];
  const strip = (s: PoolStats) =>
    Object.fromEntries(Object.entries(s).filter(([k]) => !counters.includes(k as keyof PoolStats)));
  assert.deepEqual(
    strip(final),
    strip(initial),
    "the emptied pool's stats differ from a new pool's",
  );
  assert.equal(final.freeBlocks, 1, "the emptied pool is not one free block");
  assert.equal(final.allocations, result.allocations, "the pool counts other allocations");
  assert.equal(final.frees, result.frees, "the pool counts other frees");
  assert.equal(final.failedAllocations, result.failedAllocations, "the pool counts other failures");
  return result;
}

function wholeNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(`--${name} takes a whole number, but got ${JSON.stringify(value)}.`);
  }
  return n;
}

function main(): number {
  const { values } = parseCli({
    args: cliArgs(),
    options: {
      ops: { type: "string" },
      seed: { type: "string" },
      "pool-bytes": { type: "string" },
      "check-every": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const options: SoakOptions = {
    ops: wholeNumber(values.ops, "ops", DEFAULT_OPS),
    seed: wholeNumber(values.seed, "seed", crypto.getRandomValues(new Uint32Array(1))[0]!) >>> 0,
    poolBytes: wholeNumber(values["pool-bytes"], "pool-bytes", DEFAULT_POOL_BYTES),
    checkEvery: Math.max(1, wholeNumber(values["check-every"], "check-every", DEFAULT_CHECK_EVERY)),
  };
  console.log(`seed ${options.seed}`);
  const status = new Progress();
  const began = performance.now();
  const progress = (op: number, fill: number) => {
    const rate = op / (performance.now() - began) * MS_PER_S;
    status.show(
      `soak: ${op} / ${options.ops} ops, ${(fill * PERCENT).toFixed(1)}% full, ${
        Math.round(rate)
      } ops/s`,
    );
  };
  let r: SoakResult;
  try {
    r = soak(options, progress);
  } catch (error) {
    status.clear();
    console.error(
      `soak: FAILED (seed ${options.seed}): ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
  status.clear();
  const seconds = r.elapsedMs / MS_PER_S;
  const pct = (x: number) => `${(x * PERCENT).toFixed(1)}%`;
  console.log(
    `soak: ${options.ops} ops (${r.allocations} allocations, ${r.frees} frees, ${r.resizes} resizes, ${r.failedAllocations} failed allocations, ${r.failedResizes} failed resizes) in ${
      seconds.toFixed(1)
    } s, ${Math.round(options.ops / seconds)} ops/s; ${options.poolBytes}-byte pool ${
      pct(r.minFill)
    }-${pct(r.maxFill)} full after warm-up, at least ${pct(LOW_FILL)} for ${
      pct(r.inBand / Math.max(1, r.afterWarmUp))
    } of ops; peak ${r.peakLiveBlocks} live blocks; check() ${r.checks} times; emptied pool back to one free block: ok`,
  );
  return 0;
}

if (import.meta.main) await runCli(main, HINT);
