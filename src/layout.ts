/**
 * The byte layout of a pool: every offset, flag and size the allocator reads
 * or writes. `docs/layout.md` draws the same picture byte by byte.
 *
 * All offsets are relative to the start of the pool's range and are kept in
 * 32-bit words, so a pool spans at most 4 GiB. Offsets named `*_WORD` index a
 * `Uint32Array` over the pool, offsets named `*_F64` a `Float64Array`.
 *
 * ```text
 * pool:  ┌──────────────┬──────────┬─────────┬───────┬─────────┬─────┬──────────┐
 *        │ pool header  │ sl maps  │ bin     │ block │ block   │ ... │ sentinel │
 *        │ (80 bytes)   │ FL words │ heads   │       │         │     │ (4 bytes)│
 *        └──────────────┴──────────┴─────────┴───────┴─────────┴─────┴──────────┘
 *        0              80                   FIRST                   END
 *
 * used block:  ┌────────────────────┬──────────────────────────────────────┐
 *              │ size | flags (u32) │ payload (8-byte aligned) ...         │
 *              └────────────────────┴──────────────────────────────────────┘
 *              b                    b+4                                  b+size
 *
 * free block:  ┌────────────────────┬───────────┬───────────┬─────┬──────────────┐
 *              │ size | FREE  (u32) │ next free │ prev free │ ... │ size (footer)│
 *              └────────────────────┴───────────┴───────────┴─────┴──────────────┘
 *              b                    b+4         b+8               b+size-4
 * ```
 *
 * @module
 */

/** Bytes in one 32-bit word: the unit of every header field. */
export const WORD = 4;

/** Payloads are aligned to this many bytes, so a `Float64Array` view always fits. */
export const ALIGN = 8;

/** Bytes of header in front of every block's payload. */
export const BLOCK_HEADER = WORD;

/** The smallest block: header, two free-list links and a footer. */
export const MIN_BLOCK = 16;

/** Payload bytes that the smallest block can hold. */
export const MIN_PAYLOAD = MIN_BLOCK - BLOCK_HEADER;

// Block header word: the block's whole size (a multiple of ALIGN) with flags
// in the low bits that the size leaves free.

/** Header flag: this block is free. */
export const FREE = 1;
/** Header flag: the block just before this one in memory is free (its footer is valid). */
export const PREV_FREE = 2;
/** Header bits that hold flags rather than size. */
export const FLAG_BITS = ALIGN - 1;

// Free block: words after the header.

/** Byte offset, within a free block, of the next block in its free list (0 = none). */
export const NEXT_FREE = 4;
/** Byte offset, within a free block, of the previous block in its free list (0 = none). */
export const PREV_FREE_LINK = 8;
/** Byte offset, counted back from a free block's end, of its footer (a copy of its size). */
export const FOOTER_FROM_END = WORD;

/** Link value meaning "no block": offset 0 is the pool header, never a block. */
export const NIL = 0;

// Pool header: word indices into a Uint32Array over the pool.

/** Word 0: identifies a formatted pool. */
export const MAGIC_WORD = 0;
/** Word 1: layout version, bumped whenever this file changes shape. */
export const VERSION_WORD = 1;
/** Word 2: offset of the end sentinel's header; the pool is END + 4 bytes long. */
export const END_WORD = 2;
/** Word 3: offset of the top block, the free block that ends at END (END when empty). */
export const TOP_WORD = 3;
/** Word 4: number of first-level size classes (rows of bins). */
export const FL_COUNT_WORD = 4;
/** Word 5: first-level bitmap, bit `fl` set when row `fl` has a non-empty bin. */
export const FL_BITMAP_WORD = 5;
/** Word 6: size of the largest block in the bins, 0 if none, or LARGEST_UNKNOWN. */
export const LARGEST_WORD = 6;
/** Word 7: number of free blocks in the bins (the top block is not among them). */
export const FREE_BLOCKS_WORD = 7;
/** Word 8: number of live (allocated) blocks. */
export const LIVE_BLOCKS_WORD = 8;
/** Word 9: offset of the first block; everything before it is metadata. */
export const FIRST_WORD = 9;

// Pool header: counters that may pass 2^32, as float64 slots.

/** Float64 slot 5 (byte 40): bytes held by live blocks, counted whole. */
export const BYTES_USED_F64 = 5;
/** Float64 slot 6 (byte 48): the highest BYTES_USED ever reached. */
export const PEAK_USED_F64 = 6;
/** Float64 slot 7 (byte 56): successful allocations. */
export const ALLOCATIONS_F64 = 7;
/** Float64 slot 8 (byte 64): frees. */
export const FREES_F64 = 8;
/** Float64 slot 9 (byte 72): allocations that returned nothing. */
export const FAILED_F64 = 9;

/** Bytes of the fixed pool header, before the bitmaps and bin heads. */
export const POOL_HEADER_BYTES = 80;
/** Word index of the second-level bitmaps: one word per first-level row. */
export const SL_BITMAPS_WORD = POOL_HEADER_BYTES / WORD;

/** "MMA1" in little-endian ASCII. */
export const MAGIC = 0x31414d4d;
/** Current layout version. */
export const VERSION = 1;
/** LARGEST_WORD value meaning "recompute from the highest non-empty bin". */
export const LARGEST_UNKNOWN = 0xffffffff;

/** Header value of the end sentinel: size 0 and not free, so no merge ever crosses it. */
export const SENTINEL = 0;

// Size classes (two-level segregated fit).

/** log2 of the number of bins in one first-level row. */
export const SL_LOG2 = 5;
/** Bins in one first-level row. */
export const SL_COUNT = 1 << SL_LOG2;
/** log2 of ALIGN. */
export const ALIGN_LOG2 = 3;
/** Sizes below this have one exact bin each (row 0); above it bins widen with the size. */
export const SMALL_LIMIT = 1 << (SL_LOG2 + ALIGN_LOG2);
/** log2 of SMALL_LIMIT: a size with this top bit set is in row 1. */
export const SMALL_LIMIT_LOG2 = SL_LOG2 + ALIGN_LOG2;

/** The largest pool: offsets live in 32-bit words. */
export const MAX_POOL_BYTES = 2 ** 32;

/** First-level row of a block size (any size up to 2^32 - 1). */
export function flOf(size: number): number {
  return size < SMALL_LIMIT ? 0 : 31 - Math.clz32(size) - SMALL_LIMIT_LOG2 + 1;
}

/** Rows of bins a pool of `poolBytes` needs: enough for its largest possible block. */
export function flCountFor(poolBytes: number): number {
  return flOf(Math.min(poolBytes, MAX_POOL_BYTES - ALIGN)) + 1;
}

/** Word index of the first bin head for a pool with `flCount` rows. */
export function binHeadsWord(flCount: number): number {
  return SL_BITMAPS_WORD + flCount;
}

/**
 * Offset of the first block for a pool with `flCount` rows: the metadata
 * rounded so that every payload (block offset + 4) lands on ALIGN.
 */
export function firstBlockOffset(flCount: number): number {
  const metaEnd = (binHeadsWord(flCount) + flCount * SL_COUNT) * WORD;
  return metaEnd + ((BLOCK_HEADER - metaEnd) & (ALIGN - 1));
}

/** Metadata bytes of a pool with `flCount` rows: header, maps, bins and sentinel. */
export function metadataBytes(flCount: number): number {
  return firstBlockOffset(flCount) + WORD;
}
