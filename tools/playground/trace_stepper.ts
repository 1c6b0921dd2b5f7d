// A trace replayed one operation at a time, with the same calls and rules
// as the library's replayTrace (`a` is alloc, `f` free, `r` realloc keeping
// the block's alignment), so that a picture can be taken between any two
// operations. The playground steps with it; the SVG writer samples with it.

import type { Pool } from "../../mod.ts";
import type { Trace } from "../../trace.ts";
import { OP_ALLOC, OP_FREE } from "../../src/trace/format.ts";
import { Size } from "../../src/engine/tlsf.ts";

const DEFAULT_ALIGN: number = Size.Align;

/** What one step did: the payload offsets it made and retired (0 for none). */
export interface Step {
  /** Index of the operation in the trace. */
  index: number;
  /** "a", "f" or "r". */
  op: string;
  /** Bytes asked for (0 for a free). */
  size: number;
  /** The payload freed or moved away from. */
  from: number;
  /** The payload allocated or resized into; 0 when the pool had no room. */
  to: number;
}

/** Replays `trace` into `pool` step by step. */
export class TraceStepper {
  readonly trace: Trace;
  readonly pool: Pool;
  #next = 0;
  #failed = false;
  readonly #offsets: Float64Array;
  readonly #aligns: Uint32Array;

  constructor(trace: Trace, pool: Pool) {
    this.trace = trace;
    this.pool = pool;
    this.#offsets = new Float64Array(trace.idCount);
    this.#aligns = new Uint32Array(trace.idCount);
  }

  /** Index of the next operation. */
  get position(): number {
    return this.#next;
  }

  /** Whether every operation ran, or one found no room (and the replay stopped there). */
  get done(): boolean {
    return this.#failed || this.#next >= this.trace.length;
  }

  /** Whether an allocation found no room. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Runs the next operation; null when done. */
  step(): Step | null {
    if (this.done) return null;
    const { ops, ids, newIds, sizes, aligns } = this.trace;
    const index = this.#next;
    const id = ids[index]!;
    const op = ops[index]!;
    const size = sizes[index]!;
    const offsets = this.#offsets;
    let from = 0;
    let to = 0;
    if (op === OP_ALLOC) {
      const align = aligns[index]!;
      to = align === 0 ? this.pool.alloc(size) : this.pool.alloc(size, align);
      offsets[id] = to;
      this.#aligns[id] = Math.max(align, DEFAULT_ALIGN);
    } else if (op === OP_FREE) {
      from = offsets[id]!;
      this.pool.free(from);
    } else {
      from = offsets[id]!;
      const align = aligns[index] === 0
        ? this.#aligns[id]!
        : Math.max(aligns[index]!, DEFAULT_ALIGN);
      to = this.pool.realloc(from, size, align);
      offsets[newIds[index]!] = to;
      this.#aligns[newIds[index]!] = align;
    }
    if (op !== OP_FREE && to === 0) this.#failed = true;
    else this.#next++;
    return { index, op: String.fromCharCode(op), size, from, to };
  }
}
