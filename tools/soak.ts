// The soak test: millions of allocations, frees and resizes on a pool kept
// 90-100% full, every block's contents verified when it is freed, check()
// along the way, and at the end every block freed and the pool back to one
// free block. Run `deno task soak -- --help`.

import { cliArgs, parseCli, runCli, UsageError } from "./_cli_args.ts";
import { Progress } from "./_progress.ts";
import { Pool } from "../mod.ts";
import { Oracle } from "./_oracle.ts";
import { OpGenerator, type OpKind, type OpMix, Rng } from "./_random_ops.ts";

const DEFAULT_OPS = 10_000_000;
const DEFAULT_POOL_BYTES = 8 * 1024 * 1024;
const DEFAULT_CHECK_EVERY = 100_000;
/** The pool is kept about this full, by bytesUsed / (bytesUsed + bytesFree). */
const TARGET_FILL = 0.9;
/** Alignments of aligned allocations: 2^4 to 2^8. */
const ALIGN_LOG2_MIN = 4;
const ALIGN_LOG2_MAX = 8;
const PROGRESS_EVERY = 250_000;
const MS_PER_S = 1000;
const PERCENT = 100;

/**
 * The soak's operations: one allocation in ten through a handle, one in ten
 * aligned, one operation in twenty a resize or realloc; sizes mostly small,
 * some large enough to fragment the pool. Below TARGET_FILL the generator
 * only allocates (and resizes), at or above it only frees (and resizes).
 */
const SOAK_MIX: OpMix = {
  weights: {
    allocate: 10,
    alloc: 90,
    deallocate: 10,
    free: 90,
    resize: 5,
    realloc: 5,
    sizeOf: 1,
  },
  sizes: [
    [(rng) => rng.between(0, 256), 70],
    [(rng) => rng.between(257, 4096), 25],
    [(rng) => rng.between(4097, 65536), 5],
  ],
  aligns: [
    [() => undefined, 9],
    [(rng) => 2 ** rng.between(ALIGN_LOG2_MIN, ALIGN_LOG2_MAX), 1],
  ],
  zeroShare: 0,
  askLargestShare: 0,
  targetFill: TARGET_FILL,
};

const USAGE = `Usage: deno task soak -- [options]

Runs operations from the shared generator (tools/_random_ops.ts) on one pool,
judged by the shared model (tools/_oracle.ts): allocations, frees, resizes
and reallocs of random sizes (some through handles, some aligned), keeping
the pool about ${TARGET_FILL * PERCENT}% full. Every block holds its own pattern, verified
when it is freed or moved; the whole pool is verified against the model
(check(), every block, the stats) every --check-every operations and at the
end, after every block is freed, when the pool must be one free block again.

Options:
  --ops N          operations (default ${DEFAULT_OPS})
  --seed N         seed, 0 to 2^32 - 1 (default: random)
  --pool-bytes N   the pool's size (default ${DEFAULT_POOL_BYTES})
  --check-every N  operations between whole-pool verifications (default ${DEFAULT_CHECK_EVERY})
  -h, --help       show this text`;
const HINT = "Usage: deno task soak -- [options]; -h for the options.";

interface SoakOptions {
  ops: number;
  seed: number;
  poolBytes: number;
  checkEvery: number;
}

interface SoakResult {
  /** Operations by kind. */
  ops: Record<OpKind, number>;
  allocations: number;
  frees: number;
  failedAllocations: number;
  /** Resizes and reallocs that found no room (the pool does not count these as failed allocations). */
  failedResizes: number;
  checks: number;
  peakLiveBlocks: number;
  /** Lowest and highest fill after the pool first reached TARGET_FILL. */
  minFill: number;
  maxFill: number;
  elapsedMs: number;
}

function soak(options: SoakOptions, progress: (op: number, fill: number) => void): SoakResult {
  const rng = new Rng(options.seed);
  const generator = new OpGenerator(rng, SOAK_MIX);
  const ops = {} as Record<OpKind, number>;
  const model = new Oracle(Pool.create(options.poolBytes), {
    rng,
    hooks: { begin: (kind) => ops[kind as OpKind] = (ops[kind as OpKind] ?? 0) + 1 },
  });
  const initial = model.pool.stats();
  const result: SoakResult = {
    ops,
    allocations: 0,
    frees: 0,
    failedAllocations: 0,
    failedResizes: 0,
    checks: 0,
    peakLiveBlocks: 0,
    minFill: 1,
    maxFill: 0,
    elapsedMs: 0,
  };
  const verify = () => {
    model.verify();
    result.checks++;
  };

  const began = performance.now();
  let warm = false;
  for (let op = 0; op < options.ops; op++) {
    const state = model.state();
    if (!warm && state.fill >= TARGET_FILL) warm = true;
    if (warm) {
      if (state.fill < result.minFill) result.minFill = state.fill;
      if (state.fill > result.maxFill) result.maxFill = state.fill;
    }
    model.step = op;
    model.apply(generator.next(state));
    if (model.liveBlocks > result.peakLiveBlocks) result.peakLiveBlocks = model.liveBlocks;
    if ((op + 1) % options.checkEvery === 0) verify();
    if ((op + 1) % PROGRESS_EVERY === 0) progress(op + 1, state.fill);
  }
  verify();

  // Free everything: the pool must be as it began, apart from its counters.
  model.freeAll(rng, initial);
  verify();
  result.elapsedMs = performance.now() - began;
  result.allocations = model.allocations;
  result.frees = model.frees;
  result.failedAllocations = model.failedAllocations;
  result.failedResizes = model.failedResizes;
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
  const counts = Object.entries(r.ops).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`);
  console.log(
    `soak: ${options.ops} ops in ${seconds.toFixed(1)} s, ${
      Math.round(options.ops / seconds)
    } ops/s (${r.allocations} allocations, ${r.frees} frees, ${r.failedAllocations} failed allocations, ${r.failedResizes} failed resizes; ${
      counts.join(", ")
    }); ${options.poolBytes}-byte pool ${pct(r.minFill)}-${
      pct(r.maxFill)
    } full after warm-up; peak ${r.peakLiveBlocks} live blocks; whole pool verified ${r.checks} times; emptied pool back to one free block: ok`,
  );
  return 0;
}

if (import.meta.main) await runCli(main, HINT);
