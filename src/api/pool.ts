/**
 * The `Pool` class: the public face of the allocator.
 *
 * @module
 */

import { Block, createBlock, moveBlock, retireBlock } from "./block.ts";
import { checkPool } from "../engine/check.ts";
import { PoolError } from "../common/errors.ts";
import { installDebugLayer } from "./layer.ts";
import { refusalError } from "./refusal.ts";
import { type PoolStats, readStats } from "../engine/stats.ts";
import { RunField, Runs } from "../engine/runs.ts";
import {
  Flag,
  HeaderWord,
  MAX_POOL_BYTES,
  metadataBytes,
  rowsFor,
  Size,
  Status,
  Tlsf,
  Value,
} from "../engine/tlsf.ts";
import {
  checkAlign,
  checkCallback,
  checkCount,
  checkNumber,
  checkOptions,
  describe,
  isBuffer,
} from "../common/validate.ts";
import {
  bufferOf,
  canGrow,
  defaultCeiling,
  growMemory,
  Growth,
  installGrowthLayer,
  isWasmMemory,
  type PoolMemory,
} from "./growth.ts";

/** Where in the buffer the pool lives; by default, all of it. */
export interface PoolOptions {
  /** First byte of the pool's range (rounded up to a multiple of 8). Default 0. */
  byteOffset?: number;
  /** Bytes in the pool's range (its end is rounded down to a multiple of 8). Default: to the buffer's end. */
  byteLength?: number;
  /**
   * Debug mode, for finding memory bugs; default false, and then it costs
   * nothing. Every payload gets guard bytes after it, checked when the block
   * is freed, resized or reallocated and by `check()` (`PoolError`
   * `overflow`). A freed block is poisoned and held in a quarantine, its
   * poison checked before its memory is reused and by `check()`
   * (`write-after-free`). Every live block remembers the stack that
   * allocated it, for `leaks()` and for the messages. A quarantined block
   * counts as used in `bytesUsed()`, `stats()` and `blocks()` until it is
   * released; `largestFreeBlock()` allows for the guard and for what
   * releasing the quarantine would free, and `sizeOf()` is the size asked for.
   */
  debug?: boolean;
  /**
   * For memory that can grow (a resizable `ArrayBuffer`, a growable
   * `SharedArrayBuffer`, a `WebAssembly.Memory`): when an allocation finds
   * no room, the pool grows the memory by this factor (at least as far as
   * the allocation needs) and extends its free space at the end. Above 1;
   * default 2. A pool grows only while its range ends where the memory ends.
   */
  growFactor?: number;
  /**
   * The most bytes the pool's range may grow to. Default: as far as the
   * memory can grow (its `maxByteLength`; 4 GiB for WebAssembly), at most 4 GiB.
   */
  maxByteLength?: number;
  /**
   * Called when an allocation or resize of `size` bytes finds no room and
   * the pool cannot grow, before it gives up. It may free blocks or grow
   * the memory itself (bytes it adds past a pool that ended at the
   * memory's end are the pool's); returning `true` makes the pool try once
   * more. What it throws reaches the caller, and the pool is as it was.
   */
  onOutOfMemory?: (size: number, pool: Pool) => boolean;
}

/** How `Pool.allocate` places and prepares a block. */
export interface AllocateOptions {
  /** Payload alignment in bytes: a power of two. Default 8; smaller values get 8. */
  align?: number;
  /** Fill the payload with zeros. Default false: memory is handed back as it was. */
  zero?: boolean;
}

/**
 * One block as `Pool.blocks()` reports it. `offset` and `length` mean what
 * they mean on a `Block`: the payload's place and bytes (here all the bytes
 * the payload can use, which may be a few more than were asked for);
 * `blockStart` and `blockSize` are the whole block, its header included. A
 * slot of a run (see docs/runs_tier.md) has no header: its `blockStart` is
 * its `offset` and its `blockSize` its `length`; its run's header is in no
 * block reported.
 */
export interface BlockInfo {
  /** Byte offset in the buffer of the block's payload. */
  offset: number;
  /** Payload bytes the block holds: `blockSize` less the 8-byte header, or a slot's size. */
  length: number;
  /** Byte offset in the buffer where the block (its header, if it has one) starts. */
  blockStart: number;
  /** Whole bytes of the block: header, payload and padding; or a slot's size. */
  blockSize: number;
  /** Whether the block is free. */
  free: boolean;
}

/**
 * A memory pool over an `ArrayBuffer` or `SharedArrayBuffer`: allocate and
 * free blocks of its bytes as `malloc` does, in constant time, without
 * making garbage. Everything the allocator knows is kept inside the pool's
 * own bytes.
 *
 * | operation | cost |
 * | --- | --- |
 * | `allocate`, `alloc` | O(1); O(free blocks in one size class) only when it would otherwise fail |
 * | `deallocate`, `free` | O(1) |
 * | `resize`, `realloc` | O(1) in place; O(length) when the block moves |
 * | `bytesUsed`, `bytesFree` | O(1) |
 * | `largestFreeBlock` | O(1); the first call after an allocation or resize took the largest free block walks one size class (the highest with free blocks), unless the top block is at least as big |
 * | `stats` | as `largestFreeBlock` |
 * | `blocks`, `check` | O(blocks) |
 * | `leaks` (debug mode) | O(live blocks · log live blocks) |
 * | growing, when full (memory that can grow) | O(1) besides the memory's own growth |
 * | `trim` | O(1) besides the buffer's resize |
 *
 * @example Allocating, writing, freeing
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(64 * 1024);
 * const samples = pool.allocate(128 * 8)!;
 * samples.f64.fill(0.5);
 * assert.equal(samples.length, 1024);
 * samples.free();
 * assert.equal(pool.bytesUsed(), 0);
 * ```
 */
export class Pool {
  readonly #buffer: ArrayBuffer | SharedArrayBuffer;
  readonly #tlsf: Runs;
  readonly #growth: Growth | undefined;

  /**
   * Formats `memory` (or the range `options` names) as one empty pool.
   *
   * Over a `WebAssembly.Memory`, offsets are the module's pointers, and the
   * pool follows the memory across grows made by anyone: every call, and
   * every `Block` view, uses the memory's current buffer. Over memory that
   * can grow, the pool grows it when full (see `growFactor`).
   *
   * @param memory The memory to manage.
   * @param options The range of `memory` to manage, growth, and debug mode.
   * @throws {TypeError} If `memory` is not an `ArrayBuffer`, `SharedArrayBuffer`
   * (of any realm) or `WebAssembly.Memory`, or `options` has a key it does not
   * know or a value of the wrong type.
   * @throws {RangeError} If the range is outside the memory, larger than 4 GiB, or
   * too small for the pool's metadata and one smallest block (and cannot
   * grow to it); or `growFactor` is not above 1, or `maxByteLength` is below
   * the range or beyond what the memory can grow to.
   *
   * @example A pool that doubles a resizable buffer when full
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const buffer = new ArrayBuffer(4096, { maxByteLength: 1 << 20 });
   * const pool = new Pool(buffer);
   * const big = pool.allocate(6000)!; // more than it had: it doubles
   * assert.equal(buffer.byteLength, 8192);
   * big.free();
   * assert.equal(pool.trim(), 8192 - pool.byteLength);
   * ```
   */
  constructor(memory: PoolMemory, options: PoolOptions = {}) {
    const wasm = isWasmMemory(memory);
    if (!wasm && !isBuffer(memory)) {
      throw new TypeError(
        `A pool needs an ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory, but got ${
          describe(memory)
        }.`,
      );
    }
    const buffer = bufferOf(memory);
    checkOptions(options, "The pool's options", POOL_KEYS);
    const debug = options.debug;
    if (debug !== undefined && typeof debug !== "boolean") {
      throw new TypeError(`debug must be true or false, but got ${describe(debug)}.`);
    }
    const byteOffset = options.byteOffset ?? 0;
    checkCount(byteOffset, "byteOffset");
    if (byteOffset > buffer.byteLength) {
      throw new RangeError(
        `byteOffset ${byteOffset} is past the end of the ${buffer.byteLength}-byte buffer.`,
      );
    }
    const byteLength = options.byteLength ?? buffer.byteLength - byteOffset;
    checkCount(byteLength, "byteLength");
    if (byteOffset + byteLength > buffer.byteLength) {
      throw new RangeError(
        `The range of ${byteLength} bytes at ${byteOffset} does not fit in the ${buffer.byteLength}-byte buffer.`,
      );
    }
    const start = Math.ceil(byteOffset / Size.Align) * Size.Align;
    const size = Math.max(
      0,
      Math.floor((byteOffset + byteLength) / Size.Align) * Size.Align - start,
    );
    if (size > MAX_POOL_BYTES) {
      throw new RangeError(
        `A pool spans at most 4 GiB (${MAX_POOL_BYTES} bytes), but the range has ${size}; pass a smaller byteLength.`,
      );
    }
    const { growFactor = 2, maxByteLength, onOutOfMemory } = options;
    checkNumber(growFactor, "growFactor");
    if (!(growFactor > 1 && growFactor <= MAX_POOL_BYTES)) {
      throw new RangeError(
        `growFactor must be a number above 1, such as 2, but got ${growFactor}.`,
      );
    }
    checkCallback(onOutOfMemory, "onOutOfMemory");
    // A range that ends before the memory does never grows: what follows is someone else's.
    const growable = canGrow(memory) && start + size === buffer.byteLength;
    const most = growable ? defaultCeiling(memory, start) : size;
    let ceiling = most;
    if (maxByteLength !== undefined) {
      checkCount(maxByteLength, "maxByteLength");
      if (maxByteLength < size || maxByteLength > Math.max(most, size)) {
        throw new RangeError(
          `maxByteLength must be from the range's ${size} bytes to the ${most} the memory can grow to, but got ${maxByteLength}.`,
        );
      }
      ceiling = Math.floor(maxByteLength / Size.Align) * Size.Align;
    }
    const rows = rowsFor(ceiling);
    const needed = metadataBytes(rows) + Size.MinBlock;
    if (size < needed && (!growable || ceiling < needed)) {
      throw new RangeError(
        `A pool needs at least ${needed} bytes (8-byte aligned) for its metadata and one block, but the range has ${size}.`,
      );
    }
    let length = size;
    if (size < needed) {
      const grown = growMemory(memory, start + needed);
      if (grown < 0) {
        throw new RangeError(
          `A pool needs at least ${needed} bytes for its metadata and one block, and the memory could not grow to hold them.`,
        );
      }
      length = Math.min(ceiling, Math.floor((grown - start) / Size.Align) * Size.Align);
    }
    this.#buffer = bufferOf(memory);
    this.#tlsf = new Runs(this.#buffer, start, length, rows);
    if (debug === true) installDebugLayer(this, this.#tlsf);
    if (canGrow(memory) || onOutOfMemory !== undefined) {
      const settings = { factor: growFactor, ceiling: growable ? ceiling : size, onOutOfMemory };
      this.#growth = new Growth(this, this.#tlsf, memory, settings);
      if (canGrow(memory)) {
        installGrowthLayer(this, this.#growth, this.#tlsf, debug !== true);
      }
    }
  }

  /**
   * Makes a pool over a new `ArrayBuffer` of `byteLength` bytes.
   *
   * @param byteLength The pool's size in bytes.
   * @param options As for the constructor: debug mode, and a range of the new buffer.
   * @returns The new, empty pool.
   * @throws {TypeError} If `options` is not as the constructor takes it.
   * @throws {RangeError} If `byteLength` is too small for a pool or above 4 GiB.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(1 << 20);
   * assert.equal(pool.buffer.byteLength, 1 << 20);
   * const debugPool = Pool.create(4096, { debug: true });
   * debugPool.allocate(8);
   * assert.equal(debugPool.leaks().length, 1);
   * ```
   */
  static create(byteLength: number, options?: PoolOptions): Pool {
    checkCount(byteLength, "byteLength");
    if (byteLength > MAX_POOL_BYTES) {
      throw new RangeError(`A pool spans at most 4 GiB, but ${byteLength} bytes were asked for.`);
    }
    checkOptions(options, "The pool's options", POOL_KEYS);
    return new Pool(new ArrayBuffer(byteLength), options);
  }

  /**
   * The buffer that holds the pool's bytes: for a `WebAssembly.Memory`, its
   * buffer now (a new one after each grow).
   */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.#growth === undefined ? this.#buffer : this.#growth.buffer;
  }

  /** Byte offset in `buffer` where the pool's range starts. */
  get byteOffset(): number {
    return this.#tlsf.base;
  }

  /** Bytes in the pool's range: metadata plus every block. */
  get byteLength(): number {
    return this.#tlsf.capacity;
  }

  // ── handles ───────────────────────────────────────────────────────────────

  /**
   * Allocates a block of `size` bytes.
   *
   * @param size Payload bytes; 0 gives a valid empty block.
   * @param options Alignment and zero-filling.
   * @returns The block, or `null` when no free block can hold `size` bytes.
   * @throws {TypeError} If `size` or `options.align` is not a number.
   * @throws {RangeError} If `size` is not a whole number from 0 to 2^53 - 1, or
   * `options.align` is not a power of two.
   *
   * @example A zeroed, 64-byte aligned block
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const block = pool.allocate(100, { align: 64, zero: true })!;
   * assert.equal(block.offset % 64, 0);
   * assert.ok(block.u8.every((byte) => byte === 0));
   * assert.equal(pool.allocate(10_000), null);
   * ```
   */
  allocate(size: number, options?: AllocateOptions): Block | null {
    // `typeof` first: `>>>` throws V8's own TypeError for a BigInt.
    if (typeof size !== "number" || size >>> 0 !== size || options !== undefined) {
      return this.#allocateWith(size, options);
    }
    const offset = this.#tlsf.allocate(size);
    if (offset === 0) return null;
    this.#tlsf.own(offset);
    return createBlock(this, offset, size, Size.Align);
  }

  #allocateWith(size: number, options: AllocateOptions | undefined): Block | null {
    checkCount(size, "size");
    const { align, zero } = readAllocateOptions(options);
    const offset = this.#tlsf.allocateAligned(size, align);
    if (offset === 0) return null;
    if (zero) this.#tlsf.clear(offset, size);
    this.#tlsf.own(offset);
    return createBlock(this, offset, size, align);
  }

  /**
   * Allocates a block of `size` bytes as `allocate` does, but throws when
   * the pool cannot hold it instead of returning `null`.
   *
   * @param size Payload bytes.
   * @param options Alignment and zero-filling.
   * @returns The block.
   * @throws {PoolError} `out-of-memory` when no free block can hold `size`
   * bytes; the message says the size asked for, the bytes free and the
   * largest free block.
   * @throws {TypeError} As `allocate` does.
   * @throws {RangeError} As `allocate` does.
   *
   * @example
   * ```ts
   * import { Pool, PoolError } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const block = pool.allocateOrThrow(64);
   * block.f64[0] = 1;
   * assert.throws(
   *   () => pool.allocateOrThrow(10_000),
   *   (e) => e instanceof PoolError && e.code === "out-of-memory",
   * );
   * ```
   */
  allocateOrThrow(size: number, options?: AllocateOptions): Block {
    return this.allocate(size, options) ?? this.#outOfMemory(size);
  }

  #outOfMemory(size: number): never {
    throw new PoolError(
      "out-of-memory",
      `Cannot allocate ${size} bytes: the pool has ${this.bytesFree()} bytes free, and its largest free block holds ${this.largestFreeBlock()}.`,
    );
  }

  /**
   * Frees a block, merging it at once with the free blocks beside it.
   *
   * @param block A block this pool allocated.
   * @throws {TypeError} If `block` is not a `Block`.
   * @throws {PoolError} `foreign-block` if another pool allocated it,
   * `double-free` if it was freed already.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const before = pool.largestFreeBlock();
   * pool.deallocate(pool.allocate(100)!);
   * assert.equal(pool.largestFreeBlock(), before);
   * ```
   */
  deallocate(block: Block): void {
    if (!(block instanceof Block && block.pool === this && block.live)) {
      this.#checkOwn(block, "deallocate");
    }
    if (!this.#tlsf.disown(block.offset)) this.#badHandle(block, "deallocate");
    try {
      this.#tlsf.free(block.offset);
    } catch (error) {
      // Damage is found before anything is freed: the block stays the handle's, raw free refuses it.
      this.#tlsf.own(block.offset);
      throw error;
    }
    retireBlock(block);
  }

  #badHandle(block: Block, op: string): never {
    this.#tlsf.assertAttached();
    throw new PoolError(
      "corrupt",
      `Cannot ${op} the block at offset ${block.offset}: its header was overwritten.`,
    );
  }

  /**
   * Grows or shrinks a block to `newLength` bytes: in place when the block
   * after it allows, otherwise by moving it (its contents are kept up to the
   * smaller length). The same `Block` is updated; its views are made anew.
   *
   * @param block A live block of this pool.
   * @param newLength The new payload length.
   * @returns `true`, or `false` (and nothing changed) when the pool cannot hold `newLength`.
   * @throws {TypeError} If `block` is not a `Block` or `newLength` not a number.
   * @throws {RangeError} If `newLength` is not a whole number from 0 to 2^53 - 1.
   * @throws {PoolError} `foreign-block` or `double-free` as for `deallocate`.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const block = pool.allocate(8)!;
   * block.f64[0] = 42;
   * assert.ok(pool.resize(block, 800));
   * assert.equal(block.f64.length, 100);
   * assert.equal(block.f64[0], 42);
   * assert.equal(pool.resize(block, 1 << 20), false);
   * ```
   */
  resize(block: Block, newLength: number): boolean {
    this.#checkOwn(block, "resize");
    checkCount(newLength, "newLength");
    this.#tlsf.assertAttached();
    if (!this.#tlsf.disown(block.offset)) this.#badHandle(block, "resize");
    let offset: number;
    try {
      offset = this.#tlsf.resize(block.offset, newLength, block.align);
    } catch (error) {
      // Damage is found before anything moves: the block is still where the handle says.
      this.#tlsf.own(block.offset);
      throw error;
    }
    // The handle follows the block first, so that it never names bytes given up, even if marking
    // the block where it is now finds damage around it.
    if (offset !== 0) moveBlock(block, offset, newLength);
    this.#tlsf.own(block.offset);
    return offset !== 0;
  }

  #checkOwn(block: Block, op: string): void {
    if (!(block instanceof Block)) {
      throw new TypeError(`${op}() takes a Block from Pool.allocate, but got ${describe(block)}.`);
    }
    if (block.pool !== this) {
      throw new PoolError(
        "foreign-block",
        `Cannot ${op} the block at offset ${block.offset}: it belongs to another pool.`,
      );
    }
    if (!block.live) {
      throw new PoolError(
        "double-free",
        `Cannot ${op} the block at offset ${block.offset}: it was freed already.`,
      );
    }
  }

  // ── raw offsets ───────────────────────────────────────────────────────────

  /**
   * Allocates without making a handle: the garbage-free path for hot loops
   * and for memory shared with WebAssembly.
   *
   * @param size Payload bytes.
   * @param align Payload alignment, a power of two (default 8).
   * @returns The payload's byte offset in the buffer, or 0 when no free block
   * can hold `size` bytes (a payload is never at 0).
   * @throws {TypeError} If `size` or `align` is not a number.
   * @throws {RangeError} If `size` is not a whole number from 0 to 2^53 - 1 or
   * `align` is not a power of two.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const offset = pool.alloc(24);
   * new Float64Array(pool.buffer, offset, 3).fill(1);
   * assert.equal(pool.sizeOf(offset), 24);
   * pool.free(offset);
   * ```
   */
  alloc(size: number, align?: number): number {
    // One test admits the common case: a size below 2^32 at the default alignment.
    return typeof size === "number" && size >>> 0 === size && align === undefined
      ? this.#tlsf.allocate(size)
      : this.#allocChecked(size, align);
  }

  /**
   * Allocates as `alloc` does, but throws when the pool cannot hold `size`
   * bytes instead of returning 0.
   *
   * @param size Payload bytes.
   * @param align Payload alignment, a power of two (default 8).
   * @returns The payload's byte offset in the buffer.
   * @throws {PoolError} `out-of-memory` when no free block can hold `size` bytes.
   * @throws {TypeError} As `alloc` does.
   * @throws {RangeError} As `alloc` does.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const offset = pool.allocOrThrow(24);
   * assert.equal(pool.sizeOf(offset), 24);
   * assert.throws(() => pool.allocOrThrow(10_000), /Cannot allocate 10000 bytes/);
   * ```
   */
  allocOrThrow(size: number, align?: number): number {
    const offset = this.alloc(size, align);
    return offset === 0 ? this.#outOfMemory(size) : offset;
  }

  #allocChecked(size: number, align: number | undefined): number {
    checkCount(size, "size");
    if (align === undefined) return this.#tlsf.allocate(size);
    checkAlign(align);
    return this.#tlsf.allocateAligned(size, align);
  }

  /**
   * Frees the block whose payload is at `offset`.
   *
   * Every block's 8-byte header holds its size and a check word: a hash of
   * its offset and size under a key drawn for this pool. `free` accepts
   * `offset` only if the 8 bytes before it are a used header whose check
   * word matches, so any other number (outside the pool, misaligned, inside
   * a payload, a free block, a block freed already) throws and changes
   * nothing, except when 8 bytes of data there match by chance: once in
   * 2^32, whatever the data. A size overwritten by a stray write no longer
   * matches either, and its block is reported `corrupt` rather than freed.
   * A slot of a run (a small block in a pool of 128 KiB or more) has no
   * header: its run's bits say exactly whether it is live, free already or a
   * `Block`'s, so for a slot there is no chance match. The one mistake it
   * cannot see is a stale offset whose memory was handed out again at the
   * same place since: that is someone else's live block now. Keep to the
   * handle API if that can happen: the block of a `Block` is freed and
   * resized only through its handle (`free` and `realloc` refuse its
   * offset), so a handle is never stale, and a handle freed already is
   * refused with `double-free`.
   *
   * @param offset A payload offset that `alloc` returned.
   * @throws {TypeError} If `offset` is not a number.
   * @throws {PoolError} `invalid-offset` if `offset` is not a live block's
   * payload or is a `Block`'s, `double-free` if that block is free already,
   * `corrupt` if its header was overwritten.
   */
  free(offset: number): void {
    if (typeof offset !== "number" || this.#tlsf.free(offset) < 0) this.#badOffset(offset, "free");
  }

  /**
   * Resizes the block whose payload is at `offset` to `size` bytes, as C's
   * `realloc` does: in place when the block after it allows, otherwise by
   * moving it, its contents kept up to the smaller size.
   *
   * @param offset A payload offset that `alloc` returned.
   * @param size The new payload size.
   * @param align The alignment to place the block on if it moves (default 8): the one
   * it was allocated with, to keep it.
   * @returns The payload's offset afterwards, or 0 (and nothing changed) when
   * the pool cannot hold `size` bytes.
   * @throws {TypeError} If `offset`, `size` or `align` is not a number.
   * @throws {RangeError} If `size` is not a whole number from 0 to 2^53 - 1 or
   * `align` is not a power of two.
   * @throws {PoolError} As `free` does, for an offset that is not a live block.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const offset = pool.alloc(8);
   * new Float64Array(pool.buffer, offset, 1)[0] = 42;
   * const moved = pool.realloc(offset, 800);
   * assert.equal(new Float64Array(pool.buffer, moved, 1)[0], 42);
   * assert.equal(pool.realloc(moved, 1 << 20), 0);
   * ```
   */
  realloc(offset: number, size: number, align?: number): number {
    if (typeof offset !== "number" || this.#tlsf.liveBlock(offset) < 0) {
      this.#badOffset(offset, "realloc");
    }
    checkCount(size, "size");
    if (align !== undefined) checkAlign(align);
    return this.#tlsf.resize(offset, size, Math.max(align ?? Size.Align, Size.Align));
  }

  /**
   * Usable bytes of the block whose payload is at `offset`: at least what
   * was asked for, often a few bytes more.
   *
   * @param offset A payload offset that `alloc` returned.
   * @returns The payload's capacity in bytes.
   * @throws {TypeError} If `offset` is not a number.
   * @throws {PoolError} As `free` does, for an offset that is not a live block.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * assert.equal(pool.sizeOf(pool.alloc(13)), 16);
   * ```
   */
  sizeOf(offset: number): number {
    if (typeof offset === "number") {
      const usable = this.#tlsf.liveBlock(offset);
      if (usable >= 0) return usable;
      // A Block's block may be measured by its offset, though not freed by it.
      const owned = this.#tlsf.liveBlock(offset, Value.HandleMark);
      if (owned >= 0) return owned;
    }
    this.#badOffset(offset, "sizeOf");
  }

  #badOffset(offset: unknown, op: string): never {
    this.#tlsf.assertAttached();
    if (typeof offset !== "number") {
      throw new TypeError(`${op}() takes a payload offset, but got ${describe(offset)}.`);
    }
    const owned = this.#tlsf.liveBlock(offset, Value.HandleMark);
    if (owned >= 0) {
      throw new PoolError(
        "invalid-offset",
        `Cannot ${op} offset ${offset}: it is the payload of a Block, which frees and resizes it (block.free(), pool.resize(block, n)); freed behind its back, the Block could later free whatever took its place.`,
      );
    }
    const status = owned === Status.Damaged ? owned : this.#tlsf.liveBlock(offset);
    throw refusalError(status, `offset ${offset}`, op);
  }

  // ── the pool's state ──────────────────────────────────────────────────────

  /**
   * Bytes held by live blocks, each counted whole (header, payload, padding).
   *
   * @returns The bytes in use.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * pool.allocate(32);
   * assert.equal(pool.bytesUsed(), 40);
   * ```
   */
  bytesUsed(): number {
    this.#growth?.fresh();
    const used = this.#tlsf.u32[HeaderWord.BytesUsed];
    if (used === undefined) this.#tlsf.assertAttached();
    return used!;
  }

  /**
   * Bytes in free blocks, counted whole. `bytesUsed() + bytesFree()` plus
   * the pool's fixed metadata (`stats().metadataBytes`) is always
   * `byteLength`.
   *
   * @returns The free bytes.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const { metadataBytes } = pool.stats();
   * assert.equal(pool.bytesUsed() + pool.bytesFree() + metadataBytes, 4096);
   * ```
   */
  bytesFree(): number {
    return this.byteLength - this.#tlsf.metadataBytes - this.bytesUsed();
  }

  /**
   * The largest `size` for which `allocate(size)` succeeds right now (at the
   * default alignment); 0 when no block is free at all.
   *
   * @returns Payload bytes of the largest free block.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * const largest = pool.largestFreeBlock();
   * assert.equal(pool.allocate(largest + 1), null);
   * assert.notEqual(pool.allocate(largest), null);
   * ```
   */
  largestFreeBlock(): number {
    this.#tlsf.assertAttached();
    return this.#tlsf.largestPayload();
  }

  /**
   * Everything the pool counts, read at once.
   *
   * @returns A snapshot of the pool's counters.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * pool.allocate(100);
   * const stats = pool.stats();
   * assert.equal(stats.liveBlocks, 1);
   * assert.equal(stats.allocations, 1);
   * ```
   */
  stats(): PoolStats {
    this.#growth?.fresh();
    this.#tlsf.assertAttached();
    return readStats(this.#tlsf, this.largestFreeBlock());
  }

  /**
   * What `JSON.stringify` writes for the pool: its size and how much of it
   * is used and free.
   *
   * @returns A plain object; for a detached pool, `{ detached: true }`.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * pool.allocate(100);
   * const { byteLength, bytesUsed } = pool.toJSON() as { byteLength: number; bytesUsed: number };
   * assert.deepEqual([byteLength, bytesUsed], [4096, 112]);
   * ```
   */
  toJSON():
    | { byteLength: number; bytesUsed: number; bytesFree: number; largestFreeBlock: number }
    | { detached: true } {
    if (this.#tlsf.u32.length === 0) return { detached: true };
    return {
      byteLength: this.byteLength,
      bytesUsed: this.bytesUsed(),
      bytesFree: this.bytesFree(),
      largestFreeBlock: this.largestFreeBlock(),
    };
  }

  /** How Deno's `console.log` and `Deno.inspect` show the pool. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.#inspect();
  }

  /** How Node.js's `console.log` and `util.inspect` show the pool. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.#inspect();
  }

  #inspect(): string {
    const json = this.toJSON();
    return `Pool { ${Object.entries(json).map(([key, value]) => `${key}: ${value}`).join(", ")} }`;
  }

  /**
   * Every block in address order, free and used, for pictures and
   * debugging. The pool must not change while this is iterated.
   *
   * @returns An iterator of block descriptions.
   * @throws {PoolError} `corrupt` if a block's size makes the walk impossible.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = Pool.create(4096);
   * pool.allocate(100);
   * assert.deepEqual([...pool.blocks()].map((b) => b.free), [false, true]);
   * ```
   */
  *blocks(): IterableIterator<BlockInfo> {
    const tlsf = this.#tlsf;
    this.#growth?.fresh();
    tlsf.assertAttached();
    const { u32, first, end, base } = tlsf;
    for (let b = first; b < end;) {
      const size = tlsf.sizeAt(b);
      if (size < Size.MinBlock || b + size > end) {
        throw new PoolError("corrupt", `The block at ${base + b} has an impossible size, ${size}.`);
      }
      const free = (u32[b >>> 2]! & Flag.Free) !== 0;
      const run = free ? null : tlsf.runAt(b);
      if (run !== null) {
        // A run's slots, each a block without a header; the run's own header is metadata.
        for (let i = 0; i < run.count; i++) {
          const at = base + b + RunField.Header + i * run.slot;
          const slotFree = ((run.free >>> i) & 1) === 1;
          yield {
            offset: at,
            length: run.slot,
            blockStart: at,
            blockSize: run.slot,
            free: slotFree,
          };
        }
        b += size;
        continue;
      }
      yield {
        offset: base + b + Size.BlockHeader,
        length: size - Size.BlockHeader,
        blockStart: base + b,
        blockSize: size,
        free,
      };
      b += size;
    }
  }

  /**
   * Verifies every invariant of the pool's layout: block sizes add up to the
   * pool, no two free blocks touch, free lists and bitmaps agree with the
   * blocks, and the counters agree with what the blocks say.
   *
   * @throws {PoolError} `corrupt`, describing the first violation found.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   *
   * const pool = Pool.create(4096);
   * pool.allocate(100);
   * pool.check();
   * ```
   */
  check(): void {
    this.#tlsf.assertAttached();
    checkPool(this.#tlsf);
  }

  /**
   * Gives memory back: shrinks a resizable `ArrayBuffer` whose end is the
   * pool's end to the end of the last used block, plus `keep` bytes of free
   * space (rounded up to 8, and to a smallest block of 16). A pool that
   * cannot shrink gives back nothing: one over a fixed or growable
   * `SharedArrayBuffer`, or a `WebAssembly.Memory` (which never shrinks;
   * its free space stays the pool's, for the next allocations). The peak
   * of bytes used that `stats()` reports is lowered to what the smaller
   * pool can hold, if it was more.
   *
   * @param keep Free bytes to keep at the end. Default 0.
   * @returns The bytes the buffer shrank by.
   * @throws {TypeError} If `keep` is not a number.
   * @throws {RangeError} If `keep` is not a whole number from 0 to 2^53 - 1.
   *
   * @example
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const buffer = new ArrayBuffer(8192, { maxByteLength: 1 << 20 });
   * const pool = new Pool(buffer);
   * const kept = pool.allocate(100)!;
   * const given = pool.trim(1024);
   * assert.equal(buffer.byteLength, 8192 - given);
   * assert.ok(pool.largestFreeBlock() >= 1000);
   * kept.free();
   * ```
   */
  trim(keep = 0): number {
    checkCount(keep, "keep");
    if (this.#growth === undefined) return 0;
    this.#growth.fresh();
    return this.#growth.trim(keep);
  }

  /**
   * The live blocks of a debug pool (one made with `{ debug: true }`),
   * largest first: where each payload is, the size that was asked for, and
   * the stack that allocated it (one `at ...` frame a line, the allocator's
   * own frames left out). Call it when everything should have been freed.
   *
   * @returns The live blocks, largest first; ties in address order.
   * @throws {PoolError} `no-debug` if the pool was made without debug mode,
   * which keeps no allocation sites: an empty list would wrongly say that
   * nothing leaked.
   *
   * @example Finding a block that was never freed
   * ```ts
   * import { Pool } from "@mm/alloc";
   * import assert from "node:assert/strict";
   *
   * const pool = new Pool(new ArrayBuffer(4096), { debug: true });
   * const kept = pool.allocate(100)!;
   * pool.free(pool.alloc(500));
   * pool.alloc(24);
   * const leaks = pool.leaks();
   * assert.deepEqual(leaks.map((leak) => leak.size), [100, 24]);
   * assert.equal(leaks[0]!.offset, kept.offset);
   * assert.match(leaks[0]!.stack, /^at /);
   * ```
   */
  leaks(): { offset: number; size: number; stack: string }[] {
    throw new PoolError(
      "no-debug",
      "Cannot list leaks: this pool was made without { debug: true }, so it keeps no allocation sites.",
    );
  }
}

/** Whether the payload at `offset` is a live block that a `Block` owns. */
export function isHandleBlock(tlsf: Tlsf, offset: number): boolean {
  return tlsf.liveBlock(offset, Value.HandleMark) >= 0;
}

/** The keys `PoolOptions` has. */
const POOL_KEYS: readonly (keyof PoolOptions)[] = [
  "byteOffset",
  "byteLength",
  "debug",
  "growFactor",
  "maxByteLength",
  "onOutOfMemory",
];
/** The keys `AllocateOptions` has. */
const ALLOCATE_KEYS: readonly (keyof AllocateOptions)[] = ["align", "zero"];

/**
 * Checks `allocate`'s options and reads each once (a getter may answer
 * differently the second time): the alignment to use (at least 8) and
 * whether to zero the payload.
 */
export function readAllocateOptions(
  options: AllocateOptions | undefined,
): { align: number; zero: boolean } {
  checkOptions(options, "allocate()'s options", ALLOCATE_KEYS);
  const align = options?.align;
  const zero = options?.zero;
  if (align !== undefined) checkAlign(align);
  if (zero !== undefined && typeof zero !== "boolean") {
    throw new TypeError(`zero must be true or false, but got ${describe(zero)}.`);
  }
  return { align: Math.max(align ?? Size.Align, Size.Align), zero: zero === true };
}
