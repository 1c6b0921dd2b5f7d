/**
 * Two-level segregated fit over a pool's own bytes: the free lists, bitmaps,
 * the top block and the counters all live in the pool (see `layout.ts`), and
 * this class only holds typed-array views of them and the pool's geometry.
 *
 * Offsets here are relative to the pool's start. Callers validate arguments;
 * nothing in this file throws.
 *
 * @module
 */

import {
  ALIGN,
  ALIGN_LOG2,
  ALLOCATIONS_F64,
  binHeadsWord,
  BLOCK_HEADER,
  BYTES_USED_F64,
  END_WORD,
  FAILED_F64,
  FIRST_WORD,
  firstBlockOffset,
  FL_BITMAP_WORD,
  FL_COUNT_WORD,
  FLAG_BITS,
  FOOTER_FROM_END,
  FREE,
  FREE_BLOCKS_WORD,
  FREES_F64,
  LARGEST_UNKNOWN,
  LARGEST_WORD,
  LIVE_BLOCKS_WORD,
  MAGIC,
  MAGIC_WORD,
  MIN_BLOCK,
  MIN_PAYLOAD,
  NEXT_FREE,
  NIL,
  PEAK_USED_F64,
  PREV_FREE,
  PREV_FREE_LINK,
  SENTINEL,
  SL_BITMAPS_WORD,
  SL_COUNT,
  SL_LOG2,
  SMALL_LIMIT,
  SMALL_LIMIT_LOG2,
  TOP_WORD,
  VERSION,
  VERSION_WORD,
} from "./layout.ts";

/** Whole size of a block from its header word. */
export function sizeOfHeader(header: number): number {
  return (header & ~FLAG_BITS) >>> 0;
}

/** Whole block size that holds `size` payload bytes (size at most 2^32 - 12). */
export function blockSizeFor(size: number): number {
  return size <= MIN_PAYLOAD
    ? MIN_BLOCK
    : ((size + BLOCK_HEADER + ALIGN - 1) >>> ALIGN_LOG2) * ALIGN;
}

/** Lowest set bit's index of a non-zero 32-bit value. */
function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}

/** The heap engine of one pool. */
export class Tlsf {
  /** The pool's bytes as 32-bit words: headers, links, bitmaps. */
  readonly u32: Uint32Array;
  /** The pool's bytes as float64 slots: the counters. */
  readonly f64: Float64Array;
  /** The pool's bytes, for copying payloads. */
  readonly u8: Uint8Array;
  /** Absolute offset of the pool in its buffer (a multiple of 8). */
  readonly base: number;
  /** Offset of the end sentinel. */
  readonly end: number;
  /** Offset of the first block. */
  readonly first: number;
  /** Rows of bins. */
  readonly flCount: number;
  /** Word index of bin (0, 0)'s list head. */
  readonly heads: number;

  /**
   * Attaches to a formatted pool at `[byteOffset, byteOffset + byteLength)`
   * of `buffer`, or formats it first when `format` is set.
   */
  constructor(
    buffer: ArrayBufferLike,
    byteOffset: number,
    byteLength: number,
    flCount: number,
    format: boolean,
  ) {
    this.u32 = new Uint32Array(buffer, byteOffset, byteLength / 4);
    this.f64 = new Float64Array(buffer, byteOffset, byteLength / 8);
    this.u8 = new Uint8Array(buffer, byteOffset, byteLength);
    this.base = byteOffset;
    this.end = byteLength - 4;
    this.flCount = flCount;
    this.heads = binHeadsWord(flCount);
    this.first = firstBlockOffset(flCount);
    if (format) this.#format();
  }

  #format(): void {
    const { u32, first, end } = this;
    u32.fill(0, 0, first >>> 2);
    u32[MAGIC_WORD] = MAGIC;
    u32[VERSION_WORD] = VERSION;
    u32[END_WORD] = end;
    u32[FL_COUNT_WORD] = this.flCount;
    u32[FIRST_WORD] = first;
    // The whole pool starts as one top block.
    u32[TOP_WORD] = first;
    u32[first >>> 2] = (end - first) | FREE;
    u32[end >>> 2] = SENTINEL | PREV_FREE;
  }

  /** Largest payload any allocation could ever get from this pool. */
  get maxPayload(): number {
    return this.end - this.first - BLOCK_HEADER;
  }

  // ── allocation ────────────────────────────────────────────────────────────

  /**
   * Allocates `size` payload bytes aligned to `align` and counts it.
   * Returns the block's offset, or NIL when no free block can hold it.
   */
  allocate(size: number, align: number): number {
    const b = size > this.maxPayload
      ? NIL
      : align <= ALIGN
      ? this.take(blockSizeFor(size))
      : this.takeAligned(blockSizeFor(size), align);
    const f64 = this.f64;
    if (b === NIL) {
      f64[FAILED_F64]! += 1;
      return NIL;
    }
    const used = f64[BYTES_USED_F64]! + sizeOfHeader(this.u32[b >>> 2]!);
    f64[BYTES_USED_F64] = used;
    if (used > f64[PEAK_USED_F64]!) f64[PEAK_USED_F64] = used;
    f64[ALLOCATIONS_F64]! += 1;
    this.u32[LIVE_BLOCKS_WORD]!++;
    return b;
  }

  /** Frees the live block at `b` and counts it. */
  free(b: number): void {
    const f64 = this.f64;
    f64[BYTES_USED_F64]! -= sizeOfHeader(this.u32[b >>> 2]!);
    f64[FREES_F64]! += 1;
    this.u32[LIVE_BLOCKS_WORD]!--;
    this.release(b);
  }

  /**
   * Takes a block of at least `need` bytes: a good fit from the bins, else
   * the top block, else a walk of `need`'s own bin (see `#takeSlow`).
   */
  take(need: number): number {
    const b = this.#find(need);
    if (b === NIL) return this.#takeSlow(need, ALIGN);
    const u32 = this.u32;
    return this.#carve(b, sizeOfHeader(u32[b >>> 2]!), 0, need, b === u32[TOP_WORD]);
  }

  /** As `take`, for a payload aligned to `align` (a power of two above ALIGN). */
  takeAligned(need: number, align: number): number {
    // Any region this big has room for the largest leading gap `#gap` can ask.
    const b = this.#find(need + align + ALIGN);
    if (b === NIL) return this.#takeSlow(need, align);
    const u32 = this.u32;
    const size = sizeOfHeader(u32[b >>> 2]!);
    return this.#carve(b, size, this.#gap(b, align), need, b === u32[TOP_WORD]);
  }

  /**
   * The constant-time search: a free block from the lowest non-empty bin
   * whose every block holds `need` (taken out of its bin), else the top
   * block if it is big enough, else NIL.
   */
  #find(need: number): number {
    const u32 = this.u32;
    let fl: number;
    let sl: number;
    if (need < SMALL_LIMIT) {
      fl = 0;
      sl = need >>> ALIGN_LOG2;
    } else {
      // Round up to the next bin boundary: every block in that bin fits.
      const rounded = need + (1 << (31 - Math.clz32(need) - SL_LOG2)) - 1;
      const f = 31 - Math.clz32(rounded);
      fl = rounded > 0xffffffff ? this.flCount : f - SMALL_LIMIT_LOG2 + 1;
      sl = (rounded >>> (f - SL_LOG2)) & (SL_COUNT - 1);
    }
    if (fl < this.flCount) {
      let slMap = u32[SL_BITMAPS_WORD + fl]! & (~0 << sl);
      if (slMap === 0) {
        const flMap = u32[FL_BITMAP_WORD]! & (~0 << (fl + 1));
        if (flMap !== 0) {
          fl = lowestBit(flMap);
          slMap = u32[SL_BITMAPS_WORD + fl]!;
        }
      }
      if (slMap !== 0) {
        const b = u32[this.heads + fl * SL_COUNT + lowestBit(slMap)]!;
        this.#unlink(b, sizeOfHeader(u32[b >>> 2]!));
        return b;
      }
    }
    const top = u32[TOP_WORD]!;
    return this.end - top >= need ? top : NIL;
  }

  /**
   * Bytes to leave free before a block at `b` so that its payload lands on
   * `align`: 0, or at least a smallest block.
   */
  #gap(b: number, align: number): number {
    // Low bits survive the 32-bit wrap of `&`, so this holds past 2^32 too.
    let gap = -(this.base + b + BLOCK_HEADER) & (align - 1);
    if (gap !== 0 && gap < MIN_BLOCK) gap += align;
    return gap;
  }

  /**
   * The slow path, taken only when the fast path found nothing: walks every
   * bin that may hold a block big enough (at `need`'s own bin and above) and
   * the top block, so an allocation fails only when nothing can hold it.
   */
  #takeSlow(need: number, align: number): number {
    const u32 = this.u32;
    const aligned = align > ALIGN;
    const own = this.binIndex(need);
    let fl = own >>> SL_LOG2;
    let sl = own & (SL_COUNT - 1);
    let budget = u32[FREE_BLOCKS_WORD]!;
    for (; fl < this.flCount; fl++, sl = 0) {
      let slMap = u32[SL_BITMAPS_WORD + fl]! & (~0 << sl);
      while (slMap !== 0) {
        const bin = fl * SL_COUNT + lowestBit(slMap);
        slMap &= slMap - 1;
        for (
          let b = u32[this.heads + bin]!;
          b !== NIL && budget-- > 0;
          b = u32[(b + NEXT_FREE) >>> 2]!
        ) {
          const size = sizeOfHeader(u32[b >>> 2]!);
          const gap = aligned ? this.#gap(b, align) : 0;
          if (gap + need <= size) {
            this.#unlink(b, size);
            return this.#carve(b, size, gap, need, false);
          }
        }
      }
    }
    const top = u32[TOP_WORD]!;
    const gap = aligned ? this.#gap(top, align) : 0;
    if (top < this.end && gap + need <= this.end - top) {
      return this.#carve(top, this.end - top, gap, need, true);
    }
    return NIL;
  }

  /**
   * Carves a block of `need` bytes at `b + gap` out of the free region
   * `[b, b + size)`, already taken out of its bin (or the top block when
   * `isTop`). The gap before it, if any, and a remainder after it of at least
   * a smallest block go back to the bins or stay the top block; a smaller
   * remainder is given to the block. Returns the block's offset.
   */
  #carve(b: number, size: number, gap: number, need: number, isTop: boolean): number {
    const u32 = this.u32;
    const block = b + gap;
    if (gap !== 0) this.#makeFree(b, gap);
    let whole = need;
    let rest = size - gap - need;
    if (rest < MIN_BLOCK) {
      whole += rest;
      rest = 0;
    }
    u32[block >>> 2] = gap !== 0 ? whole | PREV_FREE : whole;
    const after = block + whole;
    if (isTop) {
      u32[TOP_WORD] = after;
      u32[after >>> 2] = rest !== 0 ? rest | FREE : SENTINEL;
    } else if (rest !== 0) {
      this.#makeFree(after, rest);
      u32[(after + rest) >>> 2]! |= PREV_FREE;
    } else {
      u32[after >>> 2]! &= ~PREV_FREE;
    }
    return block;
  }

  // ── freeing ───────────────────────────────────────────────────────────────

  /** Returns the block at `b` to the free space, merging it with free neighbours. */
  release(b: number): void {
    const u32 = this.u32;
    const h = u32[b >>> 2]!;
    // Marked free even when merged away, so a second free of it is caught.
    u32[b >>> 2] = h | FREE;
    let start = b;
    let size = sizeOfHeader(h);
    if (h & PREV_FREE) {
      const prevSize = u32[(b - FOOTER_FROM_END) >>> 2]!;
      start = b - prevSize;
      this.#unlink(start, prevSize);
      size += prevSize;
    }
    const next = start + size;
    if (next === u32[TOP_WORD]) {
      u32[TOP_WORD] = start;
      u32[start >>> 2] = (this.end - start) | FREE;
      u32[this.end >>> 2] = SENTINEL | PREV_FREE;
      return;
    }
    const nh = u32[next >>> 2]!;
    if (nh & FREE) {
      const nextSize = sizeOfHeader(nh);
      this.#unlink(next, nextSize);
      size += nextSize;
    }
    u32[(start + size) >>> 2]! |= PREV_FREE;
    this.#makeFree(start, size);
  }

  /** Writes a free block's header and footer at `b` and files it in its bin. */
  #makeFree(b: number, size: number): void {
    const u32 = this.u32;
    u32[b >>> 2] = size | FREE;
    u32[(b + size - FOOTER_FROM_END) >>> 2] = size;
    this.#link(b, size);
  }

  // ── resizing ──────────────────────────────────────────────────────────────

  /**
   * Resizes the live block at `b` to hold `size` payload bytes aligned to
   * `align`: in place when it shrinks or its next neighbour is free and big
   * enough, otherwise by moving it. Returns the block's offset afterwards,
   * or NIL (and nothing changed) when the pool cannot hold `size`.
   */
  resize(b: number, size: number, align: number): number {
    if (size > this.maxPayload) return NIL;
    const u32 = this.u32;
    const need = blockSizeFor(size);
    const h = u32[b >>> 2]!;
    const old = sizeOfHeader(h);
    const next = b + old;
    const top = u32[TOP_WORD]!;
    let room = old;
    if (next === top) room += this.end - top;
    else if (u32[next >>> 2]! & FREE) room += sizeOfHeader(u32[next >>> 2]!);
    if (need <= old) {
      this.#trim(b, h & PREV_FREE, old, need);
      return b;
    }
    if (need > room) {
      const moved = align <= ALIGN ? this.take(need) : this.takeAligned(need, align);
      if (moved !== NIL) {
        this.u8.copyWithin(moved + BLOCK_HEADER, b + BLOCK_HEADER, b + Math.min(old, need));
        this.#account(sizeOfHeader(u32[moved >>> 2]!) - old);
        this.release(b);
        return moved;
      }
      return this.#slideDown(b, old, room, need, align);
    }
    // Absorb the next block whole; #trim releases what is not needed.
    if (next === top) {
      u32[TOP_WORD] = this.end;
      u32[this.end >>> 2] = SENTINEL;
    } else {
      this.#unlink(next, room - old);
      u32[(b + room) >>> 2]! &= ~PREV_FREE;
    }
    this.#trim(b, h & PREV_FREE, room, need);
    return b;
  }

  /** Sets the used block at `b` (now `size` bytes) to `need` bytes, releasing the tail. */
  #trim(b: number, prevFree: number, size: number, need: number): void {
    const u32 = this.u32;
    const old = sizeOfHeader(u32[b >>> 2]!);
    const tail = size - need;
    if (tail < MIN_BLOCK) {
      u32[b >>> 2] = size | prevFree;
      this.#account(size - old);
      return;
    }
    u32[b >>> 2] = need | prevFree;
    u32[(b + need) >>> 2] = tail;
    this.release(b + need);
    this.#account(need - old);
  }

  /**
   * Last resort for a growing block: if the free block before it, the block
   * itself and its free successor together can hold `need`, moves the
   * payload down into them.
   */
  #slideDown(b: number, old: number, room: number, need: number, align: number): number {
    const u32 = this.u32;
    const h = u32[b >>> 2]!;
    if (!(h & PREV_FREE)) return NIL;
    const prevSize = u32[(b - FOOTER_FROM_END) >>> 2]!;
    const start = b - prevSize;
    const total = prevSize + room;
    const gap = align <= ALIGN ? 0 : this.#gap(start, align);
    if (gap + need > total) return NIL;
    const next = b + old;
    const isTop = next === u32[TOP_WORD];
    this.#unlink(start, prevSize);
    if (isTop) u32[TOP_WORD] = this.end;
    else if (room > old) this.#unlink(next, room - old);
    const block = start + gap;
    this.u8.copyWithin(block + BLOCK_HEADER, b + BLOCK_HEADER, b + old);
    const placed = this.#carve(start, total, gap, need, isTop);
    this.#account(sizeOfHeader(u32[placed >>> 2]!) - old);
    return placed;
  }

  /** Adds `delta` bytes to the bytes in use (for resizes). */
  #account(delta: number): void {
    const f64 = this.f64;
    const used = f64[BYTES_USED_F64]! + delta;
    f64[BYTES_USED_F64] = used;
    if (used > f64[PEAK_USED_F64]!) f64[PEAK_USED_F64] = used;
  }

  // ── bins ──────────────────────────────────────────────────────────────────

  /** Bin index of a free block of `size` bytes. */
  binIndex(size: number): number {
    if (size < SMALL_LIMIT) return size >>> ALIGN_LOG2;
    const f = 31 - Math.clz32(size);
    const fl = f - SMALL_LIMIT_LOG2 + 1;
    if (fl >= this.flCount) return this.flCount * SL_COUNT - 1;
    return fl * SL_COUNT + ((size >>> (f - SL_LOG2)) & (SL_COUNT - 1));
  }

  /** Pushes the free block at `b` onto the front of its bin's list. */
  #link(b: number, size: number): void {
    const u32 = this.u32;
    const bin = this.binIndex(size);
    const head = u32[this.heads + bin]!;
    u32[(b + NEXT_FREE) >>> 2] = head;
    u32[(b + PREV_FREE_LINK) >>> 2] = NIL;
    if (head !== NIL) {
      u32[(head + PREV_FREE_LINK) >>> 2] = b;
    } else {
      const fl = bin >>> SL_LOG2;
      u32[SL_BITMAPS_WORD + fl]! |= 1 << (bin & (SL_COUNT - 1));
      u32[FL_BITMAP_WORD]! |= 1 << fl;
    }
    u32[this.heads + bin] = b;
    u32[FREE_BLOCKS_WORD]!++;
    // LARGEST_UNKNOWN is above every size, so an unknown maximum stays unknown.
    if (size > u32[LARGEST_WORD]!) u32[LARGEST_WORD] = size;
  }

  /** Takes the free block at `b` out of its bin's list. */
  #unlink(b: number, size: number): void {
    const u32 = this.u32;
    const next = u32[(b + NEXT_FREE) >>> 2]!;
    const prev = u32[(b + PREV_FREE_LINK) >>> 2]!;
    if (next !== NIL) u32[(next + PREV_FREE_LINK) >>> 2] = prev;
    if (prev !== NIL) {
      u32[(prev + NEXT_FREE) >>> 2] = next;
    } else {
      const bin = this.binIndex(size);
      u32[this.heads + bin] = next;
      if (next === NIL) {
        const fl = bin >>> SL_LOG2;
        const slMap = u32[SL_BITMAPS_WORD + fl]! & ~(1 << (bin & (SL_COUNT - 1)));
        u32[SL_BITMAPS_WORD + fl] = slMap;
        if (slMap === 0) u32[FL_BITMAP_WORD]! &= ~(1 << fl);
      }
    }
    u32[FREE_BLOCKS_WORD]!--;
    if (size === u32[LARGEST_WORD]) u32[LARGEST_WORD] = LARGEST_UNKNOWN;
  }

  // ── queries ───────────────────────────────────────────────────────────────

  /** Size of the top block (0 when the pool's end is in use). */
  get topSize(): number {
    return this.end - this.u32[TOP_WORD]!;
  }

  /**
   * Size of the largest free block in the bins. Known at once unless the
   * previous largest was taken since the last call; then the highest
   * non-empty bin's list is walked once to find the new one.
   */
  largestBinned(): number {
    const u32 = this.u32;
    let largest = u32[LARGEST_WORD]!;
    if (largest !== LARGEST_UNKNOWN) return largest;
    largest = 0;
    const flMap = u32[FL_BITMAP_WORD]!;
    if (flMap !== 0) {
      const fl = 31 - Math.clz32(flMap);
      const sl = 31 - Math.clz32(u32[SL_BITMAPS_WORD + fl]!);
      let budget = u32[FREE_BLOCKS_WORD]!;
      for (
        let b = u32[this.heads + fl * SL_COUNT + sl]!;
        b !== NIL && budget-- > 0;
        b = u32[(b + NEXT_FREE) >>> 2]!
      ) {
        const size = sizeOfHeader(u32[b >>> 2]!);
        if (size > largest) largest = size;
      }
    }
    u32[LARGEST_WORD] = largest;
    return largest;
  }

  /** Size of the largest free block anywhere, top block included. */
  largestFree(): number {
    return Math.max(this.largestBinned(), this.topSize);
  }
}
