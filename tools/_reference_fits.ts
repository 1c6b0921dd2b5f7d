// Classic fit policies, simulated exactly, as yardsticks for our external
// fragmentation: the policies that Johnstone and Wilson found best on real
// traces ("The Memory Fragmentation Problem: Solved?", 1998), given our
// block rules so that only the placement differs. Each search is exact
// (a segment tree), not constant-time: these are measurements, not
// allocators.

import { bisectPoolSize, type PoolSizeOptions } from "../src/trace/replay.ts";
import { OP_ALLOC, OP_FREE, type Trace } from "../src/trace/format.ts";
import { blockSizeFor, Size } from "../src/engine/tlsf.ts";

/**
 * Where a request goes:
 * - `first-fit`: the free block at the lowest address that holds it;
 * - `best-fit`: a smallest free block that holds it, the one freed last among equals;
 * - `address-ordered-best-fit`: a smallest free block that holds it, the lowest among equals.
 */
export type FitPolicy = "first-fit" | "best-fit" | "address-ordered-best-fit";

/** Every policy, in the order reports show them. */
export const FIT_POLICIES: readonly FitPolicy[] = [
  "first-fit",
  "best-fit",
  "address-ordered-best-fit",
];

/** What the smallest pool for a policy is, in the terms of `minimumPoolSize`. */
export interface ReferenceSize {
  /** Bytes of the smallest pool found that replays the trace. */
  poolSize: number;
  /** The highest sum of whole blocks in use while replaying into it. */
  peakBytesUsed: number;
  /** `poolSize / peakBytesUsed - 1`: the free space that could not be used. */
  externalFragmentation: number;
}

/** Blocks, addresses and sizes count in units of the payload alignment. */
const UNIT: number = Size.Align;
/** The smallest block, in units. */
const MIN_UNITS = Size.MinBlock / Size.Align;
/** "No block" in the free lists. */
const NIL = -1;

/** Units of the block `Tlsf` makes for a request of `bytes`. */
export function blockUnits(bytes: number): number {
  return blockSizeFor(bytes) / UNIT;
}

/**
 * A pool of `units` units of memory under one fit policy, keeping only
 * block boundaries (no payload bytes). Free blocks merge with free
 * neighbours at once, and a remainder too small to be a block stays with
 * the block it was split from, as in `Tlsf`.
 */
export class FitSimulator {
  readonly policy: FitPolicy;
  /** Units in the pool. */
  units = 0;
  /** Units in used blocks now. */
  used = 0;
  /** The most units there have been in used blocks since `reset`. */
  peakUsed = 0;
  /** Leaves of the segment tree: a power of two, at least `units + 1`. */
  private leaves = 1;
  /**
   * A max segment tree. For first fit its leaf `a` holds the size of the
   * free block starting at unit `a` (0 if none); for best fit, leaf `s` is
   * 1 while some free block has `s` units.
   */
  private tree = new Int32Array(2);
  /** Per block start: its size in units. */
  private size = new Int32Array(1);
  /** Per block start: 1 if the block is free. */
  private free = new Uint8Array(1);
  /** Per block's last unit: where the block starts, to merge with the block before. */
  private startOf = new Int32Array(1);
  /** Best fit's free lists, one per size: the first block, and the links. */
  private head = new Int32Array(1);
  private next = new Int32Array(1);
  private prev = new Int32Array(1);

  constructor(policy: FitPolicy) {
    this.policy = policy;
  }

  /** Empties the pool and makes it `units` units long: one free block. */
  reset(units: number): void {
    let leaves = 1;
    while (leaves < units + 1) leaves *= 2;
    if (leaves > this.leaves || this.size.length < units + 1) {
      this.leaves = leaves;
      this.tree = new Int32Array(2 * leaves);
      this.size = new Int32Array(units + 1);
      this.free = new Uint8Array(units + 1);
      this.startOf = new Int32Array(units + 1);
      this.head = new Int32Array(units + 1);
      this.next = new Int32Array(units + 1);
      this.prev = new Int32Array(units + 1);
    } else {
      this.tree.fill(0);
      this.free.fill(0);
    }
    this.head.fill(NIL);
    this.units = units;
    this.used = 0;
    this.peakUsed = 0;
    if (units > 0) this.addFree(0, units);
  }

  /** Allocates a block of `need` units; returns its start, or -1 if no free block holds it. */
  alloc(need: number): number {
    const at = this.find(need);
    if (at === NIL) return NIL;
    this.removeFree(at);
    this.split(at, this.size[at]!, need);
    this.account(this.size[at]!);
    return at;
  }

  /** Frees the used block starting at `at`, merging it with free neighbours. */
  release(at: number): void {
    let start = at;
    let units = this.size[at]!;
    this.account(-units);
    const after = at + units;
    if (after < this.units && this.free[after]) {
      units += this.size[after]!;
      this.removeFree(after);
    }
    if (at > 0) {
      const before = this.startOf[at - 1]!;
      if (this.free[before]) {
        this.removeFree(before);
        units += at - before;
        start = before;
      }
    }
    this.addFree(start, units);
  }

  /**
   * Resizes the used block at `at` to `need` units as C's `realloc` does:
   * in place when it shrinks or the free block after it has room, else
   * moved to a new block. Returns its start, or -1 (nothing changed).
   */
  resize(at: number, need: number): number {
    const units = this.size[at]!;
    if (need <= units) {
      if (units - need >= MIN_UNITS) {
        // The tail becomes a used block that is freed at once, to merge.
        this.setBlock(at, need);
        this.setBlock(at + need, units - need);
        this.release(at + need);
      }
      return at;
    }
    const after = at + units;
    const room = units + (after < this.units && this.free[after] ? this.size[after]! : 0);
    if (need > room) {
      const moved = this.alloc(need);
      if (moved !== NIL) this.release(at);
      return moved;
    }
    if (room > units) this.removeFree(after);
    this.split(at, room, need);
    this.account(this.size[at]! - units);
    return at;
  }

  /** Makes `[at, at + units)` a block of `need` units and files a rest big enough to be a block. */
  private split(at: number, units: number, need: number): void {
    const rest = units - need;
    if (rest < MIN_UNITS) {
      this.setBlock(at, units);
    } else {
      this.setBlock(at, need);
      this.addFree(at + need, rest);
    }
  }

  private setBlock(at: number, units: number): void {
    this.size[at] = units;
    this.startOf[at + units - 1] = at;
  }

  private account(delta: number): void {
    this.used += delta;
    if (this.used > this.peakUsed) this.peakUsed = this.used;
  }

  private find(need: number): number {
    if (this.policy === "first-fit") return this.leftmost(0, need);
    const units = this.leftmost(need, 1);
    return units === NIL ? NIL : this.head[units]!;
  }

  private addFree(at: number, units: number): void {
    this.setBlock(at, units);
    this.free[at] = 1;
    if (this.policy === "first-fit") {
      this.setLeaf(at, units);
      return;
    }
    let before = NIL;
    let after = this.head[units]!;
    if (this.policy === "address-ordered-best-fit") {
      while (after !== NIL && after < at) {
        before = after;
        after = this.next[after]!;
      }
    }
    this.next[at] = after;
    this.prev[at] = before;
    if (after !== NIL) this.prev[after] = at;
    if (before === NIL) this.head[units] = at;
    else this.next[before] = at;
    if (before === NIL && after === NIL) this.setLeaf(units, 1);
  }

  private removeFree(at: number): void {
    this.free[at] = 0;
    const units = this.size[at]!;
    if (this.policy === "first-fit") {
      this.setLeaf(at, 0);
      return;
    }
    const before = this.prev[at]!;
    const after = this.next[at]!;
    if (before === NIL) this.head[units] = after;
    else this.next[before] = after;
    if (after !== NIL) this.prev[after] = before;
    if (this.head[units] === NIL) this.setLeaf(units, 0);
  }

  private setLeaf(leaf: number, value: number): void {
    const tree = this.tree;
    let node = leaf + this.leaves;
    tree[node] = value;
    for (node >>= 1; node >= 1; node >>= 1) {
      const max = Math.max(tree[2 * node]!, tree[2 * node + 1]!);
      if (tree[node] === max) break;
      tree[node] = max;
    }
  }

  /** The lowest leaf at `from` or above whose value is at least `min`, or -1. */
  private leftmost(from: number, min: number): number {
    return this.descend(1, 0, this.leaves, from, min);
  }

  private descend(node: number, lo: number, hi: number, from: number, min: number): number {
    if (hi <= from || this.tree[node]! < min) return NIL;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >> 1;
    const left = this.descend(2 * node, lo, mid, from, min);
    return left !== NIL ? left : this.descend(2 * node + 1, mid, hi, from, min);
  }
}

/** Whether `trace` asks for an alignment above Size.Align, which `replayFits` does not simulate. */
export function hasAlignedRequests(trace: Trace): boolean {
  return trace.aligns.some((align) => align > Size.Align);
}

/**
 * Replays the first `count` operations of `trace` into `sim`, reset to
 * `poolSize` bytes, as `replayTrace` replays them into a pool. Returns
 * whether every operation found room.
 */
export function replayFits(
  trace: Trace,
  sim: FitSimulator,
  poolSize: number,
  count = trace.length,
): boolean {
  const { ops, ids, newIds, sizes, aligns } = trace;
  const starts = new Int32Array(trace.idCount);
  sim.reset(Math.floor(poolSize / UNIT));
  for (let i = 0; i < count; i++) {
    if (aligns[i]! > Size.Align) {
      throw new RangeError(
        `${trace.name}: operation ${i} asks for alignment ${aligns[i]}; ` +
          "the reference fits simulate unaligned requests only.",
      );
    }
    const op = ops[i]!;
    if (op === OP_FREE) {
      sim.release(starts[ids[i]!]!);
      continue;
    }
    const need = blockUnits(sizes[i]!);
    const at = op === OP_ALLOC ? sim.alloc(need) : sim.resize(starts[ids[i]!]!, need);
    if (at === NIL) return false;
    starts[newIds[i]!] = at;
  }
  return true;
}

/**
 * The smallest pool in which `policy` replays `trace`, searched as
 * `minimumPoolSize` searches ours. The simulated pool has no metadata, which
 * favours the reference by the few KB ours counts.
 */
export function referenceSize(
  trace: Trace,
  policy: FitPolicy,
  options: Pick<PoolSizeOptions, "tolerance" | "limit"> = {},
): ReferenceSize {
  const count = Math.min(options.limit ?? trace.length, trace.length);
  const sim = new FitSimulator(policy);
  let peakUsed = 0;
  const { poolSize } = bisectPoolSize(Size.MinBlock, (bytes) => {
    const fits = replayFits(trace, sim, bytes, count);
    if (fits) peakUsed = sim.peakUsed;
    return fits;
  }, options.tolerance === undefined ? {} : { tolerance: options.tolerance });
  const peakBytesUsed = peakUsed * UNIT;
  return { poolSize, peakBytesUsed, externalFragmentation: poolSize / peakBytesUsed - 1 };
}
