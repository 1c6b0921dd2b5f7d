// The one seeded generator of random pool operations. The property tests,
// the debug-mode tests, the fuzzer and the soak all draw their ordinary
// operations here, each with its own mix, and hand them to the one model
// (tools/_oracle.ts) that carries them out and judges the pool's answers.
//
// An operation names the block it acts on by a `pick`, a number the model
// reduces modulo its live blocks of the right kind, so that any list of
// operations means something on any pool: fast-check may drop or shrink
// operations and the rest still apply.

import { Size } from "../src/engine/tlsf.ts";

// ── seeded random numbers ──────────────────────────────────────────────────

const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;
/** The golden-ratio increment of splitmix32, also a good odd multiplier for byte patterns. */
export const GOLDEN = 0x9e3779b9;
/** Outputs dropped after seeding, so that close seeds give unrelated sequences. */
const RNG_WARMUP = 12;

/**
 * sfc32, seeded through splitmix32: fast, and the same sequence for a seed on
 * every machine, so a printed seed reproduces a run.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Makes the generator for `seed` (taken as an unsigned 32-bit integer). */
  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + GOLDEN) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    for (let i = 0; i < RNG_WARMUP; i++) this.u32();
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.u32() >>> 11) * TWO_POW_32 + this.u32()) / TWO_POW_53;
  }

  /** A uniform integer in [0, n), for n up to 2^53. */
  below(n: number): number {
    return n <= TWO_POW_32 ? Math.floor(this.u32() / TWO_POW_32 * n) : Math.floor(this.float() * n);
  }

  /** A uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() < p * TWO_POW_32;
  }

  /** One of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** Picks keys by weight (whole numbers; 0 for never) from a fixed table. */
export class Weighted<K> {
  readonly #keys: K[] = [];
  readonly #cumulative: number[] = [];
  readonly #total: number;

  constructor(table: readonly (readonly [K, number])[]) {
    let total = 0;
    for (const [key, weight] of table) {
      if (!Number.isSafeInteger(weight) || weight < 0) {
        throw new RangeError(`A weight is a whole number of at least 0, not ${weight}.`);
      }
      if (weight === 0) continue;
      total += weight;
      this.#keys.push(key);
      this.#cumulative.push(total);
    }
    this.#total = total;
  }

  /** Whether the table has anything to pick. */
  get empty(): boolean {
    return this.#total === 0;
  }

  pick(rng: Rng): K {
    const r = rng.below(this.#total);
    let i = 0;
    while (this.#cumulative[i]! <= r) i++;
    return this.#keys[i]!;
  }
}

// ── operations ─────────────────────────────────────────────────────────────

/**
 * One ordinary operation: legal arguments on live blocks. `pick` chooses
 * among the live handles (deallocate, resize), the live raw offsets (free,
 * realloc) or all live blocks (sizeOf); `askLargest` has the model ask
 * `largestFreeBlock()` first, to judge a null against.
 */
export type Op =
  | {
    readonly kind: "allocate";
    readonly size: number;
    readonly align: number | undefined;
    readonly zero: boolean;
    readonly askLargest: boolean;
  }
  | { readonly kind: "allocateLargest" }
  | { readonly kind: "deallocate"; readonly pick: number; readonly viaBlock: boolean }
  | {
    readonly kind: "alloc";
    readonly size: number;
    readonly align: number | undefined;
    readonly askLargest: boolean;
  }
  | { readonly kind: "free"; readonly pick: number }
  | { readonly kind: "resize"; readonly pick: number; readonly size: number }
  | { readonly kind: "realloc"; readonly pick: number; readonly size: number }
  | { readonly kind: "sizeOf"; readonly pick: number };

/** The kinds of operation. */
export type OpKind = Op["kind"];

/** Every kind of operation, in a fixed order. */
export const OP_KINDS: readonly OpKind[] = [
  "allocate",
  "allocateLargest",
  "deallocate",
  "alloc",
  "free",
  "resize",
  "realloc",
  "sizeOf",
];

/** Operations that add a live block, and those that take one away. */
const ADDING: ReadonlySet<OpKind> = new Set(["allocate", "allocateLargest", "alloc"]);
const REMOVING: ReadonlySet<OpKind> = new Set(["deallocate", "free"]);

/** Draws a request size, given the pool's byte length. */
export type SizeDraw = (rng: Rng, poolBytes: number) => number;
/** Draws an alignment; undefined leaves the option out. */
export type AlignDraw = (rng: Rng) => number | undefined;

/** What a generator draws and how often. */
export interface OpMix {
  /** Relative frequencies of the operations, whole numbers; a kind left out never comes. */
  readonly weights: Partial<Record<OpKind, number>>;
  /** Request sizes, with whole-number weights. */
  readonly sizes: readonly (readonly [SizeDraw, number])[];
  /** Sizes of resizes and reallocs, with whole-number weights (default: `sizes`). */
  readonly resizeSizes?: readonly (readonly [SizeDraw, number])[];
  /** Alignments, with whole-number weights. */
  readonly aligns: readonly (readonly [AlignDraw, number])[];
  /** Share of `allocate`s asking for zeroed memory. */
  readonly zeroShare: number;
  /** Share of allocations that ask `largestFreeBlock()` first. */
  readonly askLargestShare: number;
  /** Share of handle frees made with `block.free()` rather than `pool.deallocate(block)`. */
  readonly viaBlockShare?: number;
  /**
   * Keep the pool about this full, by bytesUsed / (bytesUsed + bytesFree):
   * below it nothing is freed, at or above it nothing is allocated.
   */
  readonly targetFill?: number;
  /** Keep about this many live blocks, likewise. */
  readonly targetLive?: number;
}

/** What the generator may know of the pool (the model has all of it). */
export interface PoolState {
  readonly poolBytes: number;
  /** bytesUsed / (bytesUsed + bytesFree). */
  readonly fill: number;
  readonly liveBlocks: number;
  /** Live handles, and live raw blocks. */
  readonly handles: number;
  readonly raws: number;
}

/** The size class boundaries of docs/layout.md: row 0 splits 0-256 bytes by 8, each row above a power of two by 32. */
const SMALL_LIMIT = 256;
const SMALL_LIMIT_LOG2 = 8;
const BINS_PER_ROW = 32;
/** How far from a boundary a size near one lands, in bytes either way. */
const NEAR = Size.Align;

/**
 * A payload size within a few bytes of a size-class boundary of blocks no
 * bigger than the pool: where an off-by-one in the bin arithmetic would show.
 */
export const nearClassBoundary: SizeDraw = (rng, poolBytes) => {
  const rows = Math.max(1, 31 - Math.clz32(Math.max(1, poolBytes)) - SMALL_LIMIT_LOG2 + 2);
  const row = rng.below(rows);
  const bin = rng.below(BINS_PER_ROW);
  const blockSize = row === 0
    ? bin * (SMALL_LIMIT / BINS_PER_ROW)
    : 2 ** (row + SMALL_LIMIT_LOG2 - 1) * (BINS_PER_ROW + bin) / BINS_PER_ROW;
  return Math.max(0, blockSize - Size.BlockHeader + rng.between(-NEAR, NEAR));
};

/** The runs tier's slot sizes (docs/layout.md): multiples of 8 from 16 to 256, one class each. */
const SLOT_MIN = 16;
const SLOT_MAX = 256;
const SLOT_STEP = 8;
/** The smallest pool that has runs. */
export const RUNS_MIN_POOL = 128 * 1024;
/** How far from RUNS_MIN_POOL a pool drawn around it is, in bytes either way. */
const AROUND_RUNS_POOL = 16 * 1024;

/**
 * A size at a slot class boundary of the runs tier or one byte either side
 * (15-17, 23-25, ..., 255-257), or at the tier boundary (256 and 257 get as
 * much weight as all the classes together): where an off-by-one in the class
 * arithmetic or the choice of tier would show.
 */
export const nearSlotBoundary: SizeDraw = (rng) => {
  if (rng.chance(1 / 2)) return rng.pick([SLOT_MAX - 1, SLOT_MAX, SLOT_MAX + 1, SLOT_MAX + 2]);
  const slot = SLOT_MIN + SLOT_STEP * rng.below((SLOT_MAX - SLOT_MIN) / SLOT_STEP + 1);
  return slot + rng.between(-1, 1);
};

/** A size in one tier or the other, evenly: resizes with it cross the tier boundary both ways. */
export const eitherTier: SizeDraw = (rng) =>
  rng.chance(1 / 2) ? rng.between(0, SLOT_MAX) : rng.between(SLOT_MAX + 1, 4 * SLOT_MAX);

/** An alignment above a slot's 8: such a request always goes to the TLSF tier. */
export const alignAboveSlot: AlignDraw = (rng) => 2 ** rng.between(4, 12);

/** A pool size within AROUND_RUNS_POOL of the smallest with runs, either side, a multiple of 8. */
export function poolBytesAroundRuns(rng: Rng): number {
  const steps = AROUND_RUNS_POOL / Size.Align;
  return RUNS_MIN_POOL + Size.Align * rng.between(-steps, steps);
}

/** Draws operations from a mix; the same seed and states give the same operations. */
export class OpGenerator {
  readonly rng: Rng;
  readonly #mix: OpMix;
  readonly #any: Weighted<OpKind>;
  readonly #grow: Weighted<OpKind>;
  readonly #shrink: Weighted<OpKind>;
  readonly #sizes: Weighted<SizeDraw>;
  readonly #resizeSizes: Weighted<SizeDraw>;
  readonly #aligns: Weighted<AlignDraw>;

  constructor(rng: Rng, mix: OpMix) {
    this.rng = rng;
    this.#mix = mix;
    const table = OP_KINDS.map((kind) => [kind, mix.weights[kind] ?? 0] as const);
    this.#any = new Weighted(table);
    this.#grow = new Weighted(table.filter(([kind]) => !REMOVING.has(kind)));
    this.#shrink = new Weighted(table.filter(([kind]) => !ADDING.has(kind)));
    this.#sizes = new Weighted(mix.sizes);
    this.#resizeSizes = new Weighted(mix.resizeSizes ?? mix.sizes);
    this.#aligns = new Weighted(mix.aligns);
  }

  /** The next operation for a pool in `state`. */
  next(state: PoolState): Op {
    const kind = this.#kind(state);
    // An operation on a kind of block the pool has none of makes one instead.
    const none = (kind === "deallocate" || kind === "resize") && state.handles === 0
      ? "allocate"
      : (kind === "free" || kind === "realloc") && state.raws === 0
      ? "alloc"
      : kind === "sizeOf" && state.liveBlocks === 0
      ? "alloc"
      : kind;
    return this.op(none, state.poolBytes);
  }

  /** An operation of `kind`. */
  op(kind: OpKind, poolBytes: number): Op {
    const rng = this.rng;
    const mix = this.#mix;
    switch (kind) {
      case "allocate":
        return {
          kind,
          size: this.size(poolBytes),
          align: this.align(),
          zero: rng.chance(mix.zeroShare),
          askLargest: rng.chance(mix.askLargestShare),
        };
      case "alloc":
        return {
          kind,
          size: this.size(poolBytes),
          align: this.align(),
          askLargest: rng.chance(mix.askLargestShare),
        };
      case "allocateLargest":
        return { kind };
      case "deallocate":
        return { kind, pick: rng.u32(), viaBlock: rng.chance(mix.viaBlockShare ?? 1 / 2) };
      case "free":
      case "sizeOf":
        return { kind, pick: rng.u32() };
      case "resize":
      case "realloc":
        return { kind, pick: rng.u32(), size: this.#resizeSizes.pick(rng)(rng, poolBytes) };
    }
  }

  /** A request size from the mix. */
  size(poolBytes: number): number {
    return this.#sizes.pick(this.rng)(this.rng, poolBytes);
  }

  /** An alignment from the mix. */
  align(): number | undefined {
    return this.#aligns.empty ? undefined : this.#aligns.pick(this.rng)(this.rng);
  }

  #kind(state: PoolState): OpKind {
    const { targetFill, targetLive } = this.#mix;
    const below = (targetFill !== undefined && state.fill < targetFill) ||
      (targetLive !== undefined && state.liveBlocks < targetLive);
    const above = (targetFill !== undefined && state.fill >= targetFill) ||
      (targetLive !== undefined && state.liveBlocks >= targetLive);
    const table = below && !this.#grow.empty
      ? this.#grow
      : above && !this.#shrink.empty
      ? this.#shrink
      : this.#any;
    return table.pick(this.rng);
  }
}

/** An operation as a call, for logs and failure messages. */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case "allocate":
      return `allocate(${showSize(op.size)}, ${
        JSON.stringify({ ...(op.align === undefined ? {} : { align: op.align }), zero: op.zero })
      })`;
    case "alloc":
      return op.align === undefined
        ? `alloc(${showSize(op.size)})`
        : `alloc(${showSize(op.size)}, ${op.align})`;
    case "allocateLargest":
      return "allocate(largestFreeBlock())";
    case "deallocate":
      return `${op.viaBlock ? "block.free()" : "deallocate(block)"} of handle #${op.pick}`;
    case "free":
      return `free(raw block #${op.pick})`;
    case "sizeOf":
      return `sizeOf(block #${op.pick})`;
    case "resize":
      return `resize(handle #${op.pick}, ${showSize(op.size)})`;
    case "realloc":
      return `realloc(raw block #${op.pick}, ${showSize(op.size)})`;
  }
}

function showSize(size: number): string {
  return Object.is(size, -0) ? "-0" : String(size);
}
