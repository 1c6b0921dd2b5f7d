/**
 * Pools over memory that can change size: a resizable `ArrayBuffer`, a
 * growable `SharedArrayBuffer`, a `WebAssembly.Memory`. The engine sees
 * only its views and `moveEnd`; this module decides when and how far to
 * grow, follows a memory whose buffer was replaced, and tells a buffer cut
 * short from a healthy one.
 *
 * The rules:
 *
 * - A pool grows only while its range ends where the buffer ends: bytes
 *   past its end belong to someone else (a module's own `memory.grow`, data
 *   placed after a pool given a `byteLength`).
 * - It grows when an allocation finds no room, by `growFactor` (at least
 *   as far as that allocation needs), never past `maxByteLength`.
 * - Bytes that `onOutOfMemory` added to the buffer are the pool's, if its
 *   range ended at the buffer's end before the call.
 * - Every call first checks the pool's last word (the sentinel's mark):
 *   one typed-array read. A `WebAssembly.Memory` that grew has a new
 *   buffer, and the views are made anew over it; a resizable buffer cut
 *   below the pool's end throws `PoolError` `resized` from then on.
 *
 * @module
 */

import { bufferLost } from "../common/errors.ts";
import { blockSizeFor, MAX_POOL_BYTES, Size, type Tlsf } from "../engine/tlsf.ts";
import { type LayerMethods, pushLayer } from "./layer.ts";
import type { AllocateOptions, Pool } from "./pool.ts";
import type { Block } from "./block.ts";

/** Bytes in a WebAssembly page, the unit `memory.grow` counts in. */
const WASM_PAGE = 65536;

/** The largest WebAssembly memory with 32-bit addresses, in bytes. */
const WASM_MAX_BYTES = 2 ** 32;

/** What a pool can be made over. */
export type PoolMemory = ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;

/** Whether `value` is a `WebAssembly.Memory`. */
export function isWasmMemory(value: unknown): value is WebAssembly.Memory {
  return typeof WebAssembly === "object" && value instanceof WebAssembly.Memory;
}

/** The buffer that holds `memory`'s bytes now. */
export function bufferOf(memory: PoolMemory): ArrayBuffer | SharedArrayBuffer {
  return isWasmMemory(memory) ? memory.buffer : memory;
}

/** Whether `memory` can grow: a `WebAssembly.Memory`, a resizable or growable buffer. */
export function canGrow(memory: PoolMemory): boolean {
  if (isWasmMemory(memory)) return true;
  return (memory as { resizable?: boolean }).resizable === true ||
    (memory as { growable?: boolean }).growable === true;
}

/** The byte length `memory` can grow to. */
export function maxLengthOf(memory: PoolMemory): number {
  if (isWasmMemory(memory)) return WASM_MAX_BYTES;
  return canGrow(memory) ? (memory as { maxByteLength: number }).maxByteLength : memory.byteLength;
}

/**
 * Grows `memory` to at least `length` bytes (whole pages for WebAssembly).
 * Returns its byte length after, or -1 when it cannot grow that far.
 */
export function growMemory(memory: PoolMemory, length: number): number {
  try {
    if (isWasmMemory(memory)) {
      const pages = Math.ceil(length / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
      memory.grow(pages);
      return memory.buffer.byteLength;
    }
    if (memory instanceof ArrayBuffer) memory.resize(length);
    else memory.grow(length);
    return length;
  } catch (error) {
    // Past the maximum, or no memory to be had: either way, no growth.
    if (error instanceof RangeError) return -1;
    throw error;
  }
}

/** How a pool grows, as its options set it. */
export interface GrowthSettings {
  /** Each step multiplies the pool's byte length by at least this (above 1). */
  factor: number;
  /** The most bytes the pool's range may have. */
  ceiling: number;
  /** Called before an allocation gives up; returns whether to try once more. */
  onOutOfMemory: ((size: number, pool: Pool) => boolean) | undefined;
}

/** The growth of one pool over memory that can change size. */
export class Growth {
  readonly #pool: Pool;
  readonly #tlsf: Tlsf;
  readonly #memory: PoolMemory;
  readonly #settings: GrowthSettings;
  #inCallback = false;

  constructor(pool: Pool, tlsf: Tlsf, memory: PoolMemory, settings: GrowthSettings) {
    this.#pool = pool;
    this.#tlsf = tlsf;
    this.#memory = memory;
    this.#settings = settings;
    tlsf.onFull = (size, align) => this.#full(size, align);
  }

  /** The buffer that holds the pool's bytes now, after `fresh`. */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    this.fresh();
    return bufferOf(this.#memory);
  }

  /** Makes the views anew if they are stale; throws if the pool's bytes are lost. */
  fresh(): void {
    if (!this.#tlsf.intact()) this.#renew();
  }

  #renew(): void {
    const tlsf = this.#tlsf;
    const buffer = bufferOf(this.#memory);
    const end = tlsf.base + tlsf.capacity;
    if (buffer.byteLength >= end) {
      tlsf.rebind(buffer, tlsf.capacity);
      if (tlsf.intact()) return;
    }
    throw bufferLost(buffer, end);
  }

  /** Whether the pool's range ends where its buffer ends, so that it may grow. */
  #atEnd(): boolean {
    const tlsf = this.#tlsf;
    return tlsf.base + tlsf.capacity === bufferOf(this.#memory).byteLength;
  }

  /** The engine's `onFull`: grow, else ask `onOutOfMemory`. */
  #full(size: number, align: number): boolean {
    if (this.#grow(size, align)) return true;
    const callback = this.#settings.onOutOfMemory;
    // An allocation made inside the callback fails rather than calling it again.
    if (callback === undefined || this.#inCallback) return false;
    const atEnd = this.#atEnd();
    this.#inCallback = true;
    let retry: boolean;
    try {
      retry = callback(size, this.#pool) === true;
    } finally {
      this.#inCallback = false;
    }
    this.fresh();
    if (retry && atEnd) this.#adopt();
    return retry;
  }

  /**
   * Grows the pool so that its top block holds `size` bytes at `align`:
   * by the factor, else just enough. Returns whether it grew.
   */
  #grow(size: number, align: number): boolean {
    const tlsf = this.#tlsf;
    const { factor, ceiling } = this.#settings;
    if (size >= ceiling || !canGrow(this.#memory) || !this.#atEnd()) return false;
    // As much as the allocation could take from the top block, with its alignment gap.
    const want = blockSizeFor(size) + (align > Size.Align ? align + Size.Align : 0);
    const needed = tlsf.top + want + Size.Sentinel;
    if (needed > ceiling) return false;
    const stepped = Math.min(ceiling, roundUp(tlsf.capacity * factor));
    let length = growMemory(this.#memory, tlsf.base + Math.max(needed, stepped));
    if (length < 0 && stepped > needed) length = growMemory(this.#memory, tlsf.base + needed);
    if (length < 0) return false;
    this.#extend(Math.min(ceiling, roundDown(length - tlsf.base)));
    return true;
  }

  /** Takes in bytes added to the buffer past the pool's end, up to the ceiling. */
  #adopt(): void {
    const tlsf = this.#tlsf;
    const length = Math.min(
      this.#settings.ceiling,
      roundDown(bufferOf(this.#memory).byteLength - tlsf.base),
    );
    const room = length - Size.Sentinel - tlsf.top;
    if (length > tlsf.capacity && room >= Size.MinBlock) this.#extend(length);
  }

  /** Moves the pool's end so that it has `capacity` bytes, the top block taking the rest. */
  #extend(capacity: number): void {
    const tlsf = this.#tlsf;
    tlsf.rebind(bufferOf(this.#memory), capacity);
    tlsf.moveEnd(capacity - Size.Sentinel);
  }

  /**
   * Shrinks a resizable `ArrayBuffer` back to the end of the pool's last
   * used block plus `keep` bytes; returns the bytes given back (0 for
   * memory that cannot shrink).
   */
  trim(keep: number): number {
    const tlsf = this.#tlsf;
    const buffer = this.#memory;
    if (!(buffer instanceof ArrayBuffer && buffer.resizable) || !this.#atEnd()) return 0;
    let room = roundUp(keep);
    // The top block is empty or a whole block.
    if (room > 0 && room < Size.MinBlock) room = Size.MinBlock;
    const end = tlsf.top + room;
    if (end >= tlsf.end) return 0;
    const before = buffer.byteLength;
    tlsf.moveEnd(end);
    buffer.resize(tlsf.base + end + Size.Sentinel);
    tlsf.rebind(buffer, end + Size.Sentinel);
    return before - buffer.byteLength;
  }
}

/** `bytes` rounded up to a multiple of 8. */
function roundUp(bytes: number): number {
  return Math.ceil(bytes / Size.Align) * Size.Align;
}

/** `bytes` rounded down to a multiple of 8. */
function roundDown(bytes: number): number {
  return Math.floor(bytes / Size.Align) * Size.Align;
}

/** The default ceiling of a pool at `start` in `memory`: as far as it can grow, at most 4 GiB. */
export function defaultCeiling(memory: PoolMemory, start: number): number {
  return roundDown(Math.min(MAX_POOL_BYTES, maxLengthOf(memory) - start));
}

/**
 * Puts the layer on `pool` that makes every call check its views first,
 * so that a pool whose memory grew or was cut short never reads stale
 * bytes. It goes on top of debug mode's layer, whose checks read the views.
 */
export function installGrowthLayer(
  pool: Pool,
  growth: Growth,
  tlsf: Tlsf,
  direct: boolean,
): void {
  const below = Object.getPrototypeOf(pool) as Pool;
  const fresh = (): void => {
    if (!tlsf.intact()) growth.fresh();
  };
  // `direct` when no layer is below (no debug mode): then the raw calls'
  // common case goes straight to the engine, as the class's own methods do,
  // a call less on the hot path.
  const methods: Required<LayerMethods> = {
    allocate(size: number, options?: AllocateOptions): Block | null {
      fresh();
      return below.allocate.call(pool, size, options);
    },
    deallocate(block: Block): void {
      fresh();
      below.deallocate.call(pool, block);
    },
    resize(block: Block, newLength: number): boolean {
      fresh();
      return below.resize.call(pool, block, newLength);
    },
    realloc(offset: number, size: number, align?: number): number {
      fresh();
      return below.realloc.call(pool, offset, size, align);
    },
    alloc(size: number, align?: number): number {
      fresh();
      return direct && size >>> 0 === size && align === undefined
        ? tlsf.allocate(size)
        : below.alloc.call(pool, size, align);
    },
    free(offset: number): void {
      fresh();
      // A refused offset changed nothing: the class's method then says why.
      if (!(direct && typeof offset === "number" && tlsf.free(offset) === 0)) {
        below.free.call(pool, offset);
      }
    },
    sizeOf(offset: number): number {
      fresh();
      return below.sizeOf.call(pool, offset);
    },
    largestFreeBlock(): number {
      fresh();
      return below.largestFreeBlock.call(pool);
    },
    check(): void {
      fresh();
      below.check.call(pool);
    },
    leaks(): { offset: number; size: number; stack: string }[] {
      return below.leaks.call(pool);
    },
  };
  pushLayer(pool, methods);
}
