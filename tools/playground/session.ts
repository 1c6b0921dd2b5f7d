// The playground's state without the page: one pool, what the user and the
// demos did to it, and the figures over time. Everything the page shows
// comes from here and from the pool's own bytes, so a test can run the same
// session in Deno, or ask the page's session (window.playground) for it.

import { Pool, type PoolStats } from "../../mod.ts";
import type { Trace } from "../../trace.ts";
import { TraceStepper } from "./trace_stepper.ts";
import { Size } from "../../src/engine/tlsf.ts";

/** A live block as the session knows it. */
export interface LiveBlock {
  /** Payload offset. */
  offset: number;
  /** Bytes asked for. */
  requested: number;
  /** Operation number that made it (or last moved it). */
  born: number;
  /** Place in the session's list of live blocks, for picking one at random. */
  slot: number;
}

/** The last operation and what it cost. */
export interface LastOperation {
  text: string;
  /** Milliseconds between two `performance.now()` readings around the pool call. */
  ms: number;
  ok: boolean;
}

/** Figures over time: one entry per recorded operation, in columns as uPlot takes them. */
export interface History {
  op: number[];
  used: number[];
  free: number[];
  largest: number[];
}

/** Points the chart keeps: beyond it, every other point goes and recording thins out. */
const MAX_POINTS = 4000;
const ALIGN: number = Size.Align;
/** Churn and fill draw sizes log-uniformly between these. */
const MIN_RANDOM_SIZE = 8;
const MAX_RANDOM_SIZE = 2048;
/** Churn's chance of allocating while below its target (of freeing, above it). */
const TOWARDS = 0.75;
const EVEN = 0.5;
/** Tries "fill and fragment" makes before the pool is full. */
const FILL_LIMIT = 100_000;

/** A small seeded generator (mulberry32), so a demo can be run again the same way. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export class Session {
  pool: Pool;
  /** Operations run since the pool was made. */
  ops = 0;
  last: LastOperation = { text: "none yet", ms: 0, ok: true };
  history: History = { op: [], used: [], free: [], largest: [] };
  /** The trace being replayed, if any. */
  replay: TraceStepper | null = null;
  readonly #live = new Map<number, LiveBlock>();
  readonly #order: LiveBlock[] = [];
  #stride = 1;
  #rng: () => number;

  constructor(bytes: number, seed = 1) {
    this.pool = Pool.create(bytes);
    this.#rng = random(seed);
    this.#record(true);
  }

  /** A fresh pool of `bytes` bytes; the history starts again. */
  reset(bytes: number): void {
    this.pool = Pool.create(bytes);
    this.#live.clear();
    this.#order.length = 0;
    this.ops = 0;
    this.#stride = 1;
    this.replay = null;
    this.history = { op: [], used: [], free: [], largest: [] };
    this.last = { text: `new pool of ${bytes} bytes`, ms: 0, ok: true };
    this.#record(true);
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  /** The live block whose payload is at `offset`. */
  block(offset: number): LiveBlock | undefined {
    return this.#live.get(offset);
  }

  /** Live blocks, in no particular order. */
  liveBlocks(): readonly LiveBlock[] {
    return this.#order;
  }

  /** Allocates `size` bytes on `align`; returns the payload offset, or 0 when there is no room. */
  allocate(size: number, align = ALIGN): number {
    const start = performance.now();
    const offset = align > ALIGN ? this.pool.alloc(size, align) : this.pool.alloc(size);
    const ms = performance.now() - start;
    const asked = align > ALIGN ? `allocate(${size}, { align: ${align} })` : `allocate(${size})`;
    this.#done(
      offset !== 0 ? `${asked} → ${offset}` : `${asked} → null: no free block fits`,
      ms,
      offset !== 0,
    );
    if (offset !== 0) this.#add(offset, size);
    return offset;
  }

  /** Frees the live block at `offset`. */
  free(offset: number): void {
    const start = performance.now();
    this.pool.free(offset);
    const ms = performance.now() - start;
    this.#remove(offset);
    this.#done(`free(${offset})`, ms, true);
  }

  /** Resizes the block at `offset` to `size` bytes; returns its offset afterwards, 0 if it could not. */
  resize(offset: number, size: number): number {
    const start = performance.now();
    const to = this.pool.realloc(offset, size);
    const ms = performance.now() - start;
    const moved = to !== 0 && to !== offset
      ? `, moved to ${to}`
      : to === 0
      ? ": no room"
      : " in place";
    this.#done(`resize(${offset}, ${size})${moved}`, ms, to !== 0);
    if (to !== 0) {
      this.#remove(offset);
      this.#add(to, size);
    }
    return to;
  }

  /** Fills the pool with blocks of random sizes, then frees every other one. */
  fillAndFragment(): void {
    const made: number[] = [];
    for (let i = 0; i < FILL_LIMIT; i++) {
      const offset = this.allocate(this.#randomSize());
      if (offset === 0) {
        if (this.pool.largestFreeBlock() < MIN_RANDOM_SIZE) break;
        continue;
      }
      made.push(offset);
    }
    made.forEach((offset, i) => {
      if (i % 2 === 0) this.free(offset);
    });
  }

  /** `steps` random operations that keep about `target` blocks live. */
  churn(target: number, steps: number): void {
    for (let i = 0; i < steps; i++) {
      const live = this.#order.length;
      // Drift towards the target rather than jump to it, so the live set still churns there.
      const chance = live < target ? TOWARDS : live > target ? 1 - TOWARDS : EVEN;
      const grow = this.#rng() < chance;
      if (grow || live === 0) {
        if (this.allocate(this.#randomSize()) === 0 && live > 0) this.free(this.#randomLive());
      } else {
        this.free(this.#randomLive());
      }
    }
  }

  /** Starts replaying `trace` into a fresh pool of `bytes` bytes. */
  loadTrace(trace: Trace, bytes: number): void {
    this.reset(bytes);
    this.replay = new TraceStepper(trace, this.pool);
    this.last = { text: `loaded ${trace.name}: ${trace.length} operations`, ms: 0, ok: true };
  }

  /** Runs up to `count` operations of the trace being replayed; false when it is done. */
  replayStep(count: number): boolean {
    const stepper = this.replay;
    if (stepper === null) return false;
    for (let i = 0; i < count && !stepper.done; i++) {
      const start = performance.now();
      const step = stepper.step()!;
      const ms = performance.now() - start;
      const ok = step.op === "f" || step.to !== 0;
      const what = step.op === "a"
        ? `allocate(${step.size})`
        : step.op === "f"
        ? `free(${step.from})`
        : `resize(${step.from}, ${step.size})`;
      this.#done(`trace op ${step.index + 1}: ${what}${ok ? "" : " → no room"}`, ms, ok);
      if (ok && step.from !== 0) this.#remove(step.from);
      if (ok && step.to !== 0) this.#add(step.to, step.size);
    }
    if (stepper.done) this.#record(true);
    return !stepper.done;
  }

  #randomSize(): number {
    const span = Math.log(MAX_RANDOM_SIZE / MIN_RANDOM_SIZE);
    return Math.round(MIN_RANDOM_SIZE * Math.exp(this.#rng() * span));
  }

  #randomLive(): number {
    return this.#order[Math.floor(this.#rng() * this.#order.length)]!.offset;
  }

  #add(offset: number, requested: number): void {
    const block = { offset, requested, born: this.ops, slot: this.#order.length };
    this.#live.set(offset, block);
    this.#order.push(block);
  }

  #remove(offset: number): void {
    const block = this.#live.get(offset);
    if (block === undefined) return;
    this.#live.delete(offset);
    const last = this.#order.pop()!;
    if (last !== block) {
      last.slot = block.slot;
      this.#order[block.slot] = last;
    }
  }

  #done(text: string, ms: number, ok: boolean): void {
    this.ops++;
    this.last = { text, ms, ok };
    this.#record(false);
  }

  #record(always: boolean): void {
    if (!always && this.ops % this.#stride !== 0) return;
    const h = this.history;
    if (h.op.length > 0 && h.op.at(-1) === this.ops) return;
    h.op.push(this.ops);
    h.used.push(this.pool.bytesUsed());
    h.free.push(this.pool.bytesFree());
    h.largest.push(this.pool.largestFreeBlock());
    if (h.op.length > MAX_POINTS) {
      for (const column of [h.op, h.used, h.free, h.largest]) {
        let kept = 0;
        for (let i = 0; i < column.length; i += 2) column[kept++] = column[i]!;
        column.length = kept;
      }
      this.#stride *= 2;
    }
  }
}
