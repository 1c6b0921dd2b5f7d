/**
 * The handle that `Pool.allocate` returns for a block.
 *
 * @module
 */

import { bufferLost, PoolError } from "../common/errors.ts";
import { describe } from "../common/validate.ts";
import type { Pool } from "./pool.ts";
import { Size } from "../engine/tlsf.ts";

/**
 * A typed-array constructor, as `Block.view` takes it: `Int32Array`,
 * `Float32Array`, `BigUint64Array` and the rest.
 */
export interface TypedArrayConstructor<T> {
  /** Makes a view of `length` elements at `byteOffset` in `buffer`. */
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  /** Bytes per element. */
  readonly BYTES_PER_ELEMENT: number;
}

/** Makes a handle; for the pool only. */
export let createBlock: (pool: Pool, offset: number, length: number, align: number) => Block;
/** Marks a handle freed and drops its views; for the pool only. */
export let retireBlock: (block: Block) => void;
/** Points a handle at its block's new place after a resize; for the pool only. */
export let moveBlock: (block: Block, offset: number, length: number) => void;

/**
 * One allocated block of a pool: where its payload is, how long it is, and
 * typed-array views of it. Views are made on first use and kept, so asking
 * again is free; when the pool's memory grows and its buffer is replaced
 * (a `WebAssembly.Memory`'s), they are made anew on the next access, and a
 * view of a detached buffer is never handed out. Once the block is freed,
 * its views can no longer be had.
 *
 * Blocks come from {@linkcode Pool.allocate}; they cannot be made directly.
 *
 * @example Writing numbers into a block
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(4096);
 * const block = pool.allocate(3 * 8)!;
 * block.f64.set([1.5, 2.5, 3.5]);
 * assert.equal(block.f64.length, 3);
 * assert.equal(new Float64Array(pool.buffer, block.offset, 3)[1], 2.5);
 * assert.equal(block.f64, block.f64);
 * block.free();
 * assert.throws(() => block.f64);
 * ```
 */
export class Block {
  #pool: Pool;
  #offset: number;
  #length: number;
  #align: number;
  #live = true;
  #u8: Uint8Array | undefined = undefined;
  #f64: Float64Array | undefined = undefined;
  // The view cache, made on first use: two constructors and their views, newer first.
  #views: unknown[] | undefined = undefined;

  private constructor(pool: Pool, offset: number, length: number, align: number) {
    this.#pool = pool;
    this.#offset = offset;
    this.#length = length;
    this.#align = align;
  }

  /** Byte offset of the payload in the pool's buffer, a multiple of the block's alignment. */
  get offset(): number {
    return this.#offset;
  }

  /** Payload bytes, exactly as requested. */
  get length(): number {
    return this.#length;
  }

  /** The alignment the payload was allocated with. */
  get align(): number {
    return this.#align;
  }

  /** The pool this block belongs to. */
  get pool(): Pool {
    return this.#pool;
  }

  /** Whether the block is still allocated (not freed). */
  get live(): boolean {
    return this.#live;
  }

  /**
   * The payload as bytes: a `Uint8Array` of exactly `length` elements.
   *
   * @throws {PoolError} `use-after-free` once the block is freed.
   */
  get u8(): Uint8Array {
    const view = this.#u8;
    // A view over a buffer since detached or cut short has no bytes left.
    if (view !== undefined && view.byteLength !== 0) return view;
    const buffer = this.#buffer("u8");
    if (view !== undefined && this.#length === 0 && view.buffer === buffer) return view;
    return this.#u8 = new Uint8Array(buffer, this.#offset, this.#length);
  }

  /**
   * The payload as float64s: a `Float64Array` of `Math.floor(length / 8)` elements.
   *
   * @throws {PoolError} `use-after-free` once the block is freed.
   */
  get f64(): Float64Array {
    const view = this.#f64;
    if (view !== undefined && view.byteLength !== 0) return view;
    const buffer = this.#buffer("f64");
    if (view !== undefined && this.#length < Size.Align && view.buffer === buffer) return view;
    return this.#f64 = new Float64Array(buffer, this.#offset, this.#length >>> 3);
  }

  /**
   * A view of the payload as any typed array, with as many whole elements
   * as fit in `length` bytes. The handle keeps the views of the last two
   * constructors asked for, so asking again for one of them returns the same
   * object and makes no garbage (a render loop can call it every frame);
   * a third constructor replaces the one used least recently. `Uint8Array`
   * and `Float64Array` give `u8` and `f64`, which are kept apart.
   *
   * Cost: one more field on every handle, 8 bytes in Deno and Node.js (a
   * handle measured 99 bytes without it, 107 with); the first view kept adds
   * a small array and the view, about 184 bytes, until the block moves or is
   * freed, and a second view about 104 more. A repeated call is a few
   * comparisons: 9 ns against 46 ns for `new Float32Array(...)` (means of
   * bench/views_bench.ts, median of 5 runs on a loaded machine), and no
   * garbage. A miss makes a view as `new` does.
   *
   * @param ctor A typed-array constructor such as `Int32Array`.
   * @returns A view of the payload, the same object on repeated calls until
   * the block moves (`resize`) or is freed.
   * @throws {TypeError} If `ctor` is not a typed-array constructor.
   * @throws {RangeError} If the payload is not aligned for its elements.
   * @throws {PoolError} `use-after-free` once the block is freed.
   *
   * @example A block as 32-bit integers and as float32s
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const block = Pool.create(4096).allocate(10)!;
   * assert.equal(block.view(Int32Array).length, 2);
   * assert.equal(block.view(Float32Array), block.view(Float32Array));
   * ```
   */
  view<T>(ctor: TypedArrayConstructor<T>): T {
    const views = this.#views;
    if (views !== undefined) {
      if (views[0] === ctor) return views[1] as T;
      if (views[2] === ctor && views[3] !== undefined) {
        const view = views[3];
        views[2] = views[0];
        views[3] = views[1];
        views[0] = ctor;
        views[1] = view;
        return view as T;
      }
    }
    if (ctor === (Uint8Array as unknown)) return this.u8 as T;
    if (ctor === (Float64Array as unknown)) return this.f64 as T;
    const bytes = (ctor as { BYTES_PER_ELEMENT?: unknown } | null)?.BYTES_PER_ELEMENT;
    if (typeof ctor !== "function" || typeof bytes !== "number") {
      throw new TypeError(
        `view() takes a typed-array constructor such as Int32Array, but got ${describe(ctor)}.`,
      );
    }
    const buffer = this.#buffer("view()");
    if (this.#offset % bytes !== 0) {
      throw new RangeError(
        `The block at offset ${this.#offset} is not aligned for ${ctor.name} (${bytes}-byte elements); allocate it with { align: ${bytes} }.`,
      );
    }
    const view = new ctor(buffer, this.#offset, Math.floor(this.#length / bytes));
    if (views === undefined) {
      this.#views = [ctor, view, undefined, undefined];
    } else {
      views[2] = views[0];
      views[3] = views[1];
      views[0] = ctor;
      views[1] = view;
    }
    return view;
  }

  /**
   * Frees the block; the same as `block.pool.deallocate(block)`.
   *
   * @throws {PoolError} `double-free` if it was freed already.
   */
  free(): void {
    this.#pool.deallocate(this);
  }

  /**
   * Frees the block when a `using` declaration's scope ends. A block freed
   * already through `free()` or `deallocate` is left alone, so a scope may
   * free early; freeing twice any other way stays a `double-free`.
   *
   * @throws {PoolError} As `free` does, for a live block that cannot be freed.
   *
   * @example Freed at the end of the scope
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * {
   *   using block = pool.allocateOrThrow(64);
   *   block.f64[0] = 1;
   * }
   * assert.equal(pool.bytesUsed(), 0);
   * ```
   */
  [Symbol.dispose](): void {
    if (this.#live) this.#pool.deallocate(this);
  }

  /**
   * What `JSON.stringify` writes for the block: its place, length,
   * alignment and liveness.
   *
   * @returns A plain object.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const block = Pool.create(4096).allocateOrThrow(10);
   * assert.equal(JSON.stringify(block), `{"offset":${block.offset},"length":10,"align":8,"live":true}`);
   * ```
   */
  toJSON(): { offset: number; length: number; align: number; live: boolean } {
    return { offset: this.#offset, length: this.#length, align: this.#align, live: this.#live };
  }

  /** How Deno's `console.log` and `Deno.inspect` show the block. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#inspect();
  }

  /** How Node.js's `console.log` and `util.inspect` show the block. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#inspect();
  }

  #inspect(): string {
    return `Block { offset: ${this.#offset}, length: ${this.#length}, live: ${this.#live} }`;
  }

  #dropViews(): void {
    this.#u8 = undefined;
    this.#f64 = undefined;
    this.#views = undefined;
  }

  #buffer(what: string): ArrayBufferLike {
    if (!this.#live) {
      throw new PoolError(
        "use-after-free",
        `Cannot use ${what} of the block at offset ${this.#offset}: it was freed.`,
      );
    }
    // The pool's buffer now: a WebAssembly memory's is a new one after each grow.
    const buffer = this.#pool.buffer;
    if ((buffer as { detached?: boolean }).detached === true) {
      throw bufferLost(buffer, this.#offset + this.#length);
    }
    return buffer;
  }

  static {
    createBlock = (pool, offset, length, align) => new Block(pool, offset, length, align);
    retireBlock = (block) => {
      block.#live = false;
      block.#dropViews();
    };
    moveBlock = (block, offset, length) => {
      block.#offset = offset;
      block.#length = length;
      block.#dropViews();
    };
  }
}
