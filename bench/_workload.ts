// Seeded churn sequences: every contender replays the same frees and allocations.

/** Live-set sizes of the churn benchmarks. */
export const LIVE_COUNTS = [100, 10_000, 100_000] as const;

/** Smallest and largest request of a churn step, in bytes. */
export const SIZE_MIN = 8;
export const SIZE_MAX = 256;

/** The request size of workload (a), allocate-then-free. */
export const FIXED_SIZE = 64;

// A power of two so a cursor wraps with a mask; small enough to stay in cache.
const STEPS_LOG2 = 16;
const STEPS = 1 << STEPS_LOG2;
export const STEP_MASK = STEPS - 1;

const SEED = 0x9e3779b9;

// thi.ng takes about a millisecond per step at the largest L, which bounds the warm-up.
const PRE_CHURN_MAX = 10_000;

/** Steps replayed before timing, so that the live set starts out fragmented. */
export function preChurnSteps(live: number): number {
  return Math.min(live, PRE_CHURN_MAX);
}

/** What a contender replays for a live set of `live` blocks. */
export interface ChurnSequence {
  live: number;
  /** Sizes of the first `live` allocations, made before timing. */
  initialSizes: Uint32Array;
  /** Step k frees the block in `slots[k]` and allocates `sizes[k]` bytes in its place. */
  slots: Uint32Array;
  sizes: Uint32Array;
}

/** Marsaglia's xorshift32: small, seeded, and the same on every run. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function randomSize(next: () => number): number {
  return SIZE_MIN + (next() % (SIZE_MAX - SIZE_MIN + 1));
}

const cache = new Map<number, ChurnSequence>();

/** The churn sequence for `live` blocks; the same object for every caller. */
export function churnSequence(live: number): ChurnSequence {
  let seq = cache.get(live);
  if (seq !== undefined) return seq;
  const next = xorshift32(SEED ^ live);
  const initialSizes = new Uint32Array(live);
  for (let i = 0; i < live; i++) initialSizes[i] = randomSize(next);
  const slots = new Uint32Array(STEPS);
  const sizes = new Uint32Array(STEPS);
  for (let k = 0; k < STEPS; k++) {
    // Scale rather than take a remainder: no bias towards low slots.
    slots[k] = Math.floor((next() / 2 ** 32) * live);
    sizes[k] = randomSize(next);
  }
  seq = { live, initialSizes, slots, sizes };
  cache.set(live, seq);
  return seq;
}
