/**
 * Shared test helpers: a per-block byte pattern, a walk of `Pool.blocks()`
 * that checks the tiling, and the reference model the property test
 * compares a pool against.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Block, Pool, PoolStats } from "../mod.ts";
import { metadataBytes, rowsFor, Size } from "../src/engine/tlsf.ts";

/** The byte a block filled with `seed` holds at payload index `i`; varies with `i` so a shifted copy shows. */
export function patternByte(seed: number, i: number): number {
  return (seed + i * 7) & 0xff;
}

/** Fills `length` bytes at `offset` of `buffer` with the pattern of `seed`. */
export function fillPattern(
  buffer: ArrayBufferLike,
  offset: number,
  length: number,
  seed: number,
): void {
  const bytes = new Uint8Array(buffer, offset, length);
  for (let i = 0; i < length; i++) bytes[i] = patternByte(seed, i);
}

/** Asserts that `length` bytes at `offset` of `buffer` still hold the pattern of `seed`. */
export function assertPattern(
  buffer: ArrayBufferLike,
  offset: number,
  length: number,
  seed: number,
  what = "block",
): void {
  const bytes = new Uint8Array(buffer, offset, length);
  for (let i = 0; i < length; i++) {
    if (bytes[i] !== patternByte(seed, i)) {
      assert.fail(
        `${what} at ${offset}: byte ${i} is ${bytes[i]}, expected ${patternByte(seed, i)}`,
      );
    }
  }
}

/** Fills a block's whole payload with the pattern of `seed`. */
export function fillBlock(block: Block, seed: number): void {
  fillPattern(block.pool.buffer, block.offset, block.length, seed);
}

/** Asserts a block's first `length` payload bytes (default all) hold the pattern of `seed`. */
export function assertBlock(block: Block, seed: number, length = block.length): void {
  assertPattern(block.pool.buffer, block.offset, length, seed);
}

/** The smallest whole block (header, payload, rounding) that holds `size` payload bytes. */
export function wholeSizeFor(size: number): number {
  return Math.max(Size.MinBlock, Math.ceil((size + Size.BlockHeader) / Size.Align) * Size.Align);
}

/**
 * The pool size with exactly `bytes` of room for blocks after its metadata,
 * whose own size grows with the pool's.
 */
export function poolWithRoomFor(bytes: number): number {
  let size = bytes + metadataBytes(rowsFor(bytes));
  while (bytes + metadataBytes(rowsFor(size)) !== size) {
    size = bytes + metadataBytes(rowsFor(size));
  }
  return size;
}

/** The smallest byte length a pool accepts: its metadata plus one smallest block. */
export function smallestPoolBytes(): number {
  let n = Size.Align;
  while (n < metadataBytes(rowsFor(n)) + Size.MinBlock) n += Size.Align;
  return n;
}

/** What `blocks()` says, summed up. */
export interface Layout {
  used: { offset: number; size: number }[];
  bytesUsed: number;
  bytesFree: number;
  freeBlocks: number;
  largestFree: number;
}

/**
 * Walks `pool.blocks()`, asserting that the blocks come in address order and
 * tile the pool from the end of its metadata to its end sentinel exactly,
 * and returns the used blocks and the free-space totals.
 */
export function walk(pool: Pool): Layout {
  const { metadataBytes } = pool.stats();
  // The metadata is the header in front of the blocks plus the end sentinel.
  let expected = pool.byteOffset + metadataBytes - Size.Sentinel;
  const layout: Layout = { used: [], bytesUsed: 0, bytesFree: 0, freeBlocks: 0, largestFree: 0 };
  for (const info of pool.blocks()) {
    assert.equal(info.blockStart, expected, "blocks are contiguous and in address order");
    assert.equal(info.offset, info.blockStart + Size.BlockHeader);
    assert.equal(info.blockSize % Size.Align, 0);
    assert.ok(info.blockSize >= Size.MinBlock);
    if (info.free) {
      layout.bytesFree += info.blockSize;
      layout.freeBlocks++;
      layout.largestFree = Math.max(layout.largestFree, info.blockSize);
    } else {
      layout.bytesUsed += info.blockSize;
      layout.used.push({ offset: info.offset, size: info.blockSize });
    }
    expected += info.blockSize;
  }
  assert.equal(
    expected,
    pool.byteOffset + pool.byteLength - Size.Sentinel,
    "blocks reach the sentinel",
  );
  return layout;
}

/** The largest payload a layout's free blocks can give at the default alignment. */
export function largestPayload(layout: Layout): number {
  return layout.largestFree === 0 ? 0 : layout.largestFree - Size.BlockHeader;
}

/** A pool's observable state, to compare before and after a call that must change nothing. */
export interface Snapshot {
  stats: PoolStats;
  blocks: unknown[];
}

/** Takes a snapshot of `pool`. */
export function snapshot(pool: Pool): Snapshot {
  return { stats: pool.stats(), blocks: [...pool.blocks()] };
}

/** One live block of the reference model. */
export interface Entry {
  /** The handle, or null for a block from the raw `alloc`. */
  block: Block | null;
  offset: number;
  length: number;
  align: number;
  seed: number;
}

/**
 * The reference model: the live blocks with their requested lengths and
 * fill patterns, and the counters a pool must agree with.
 */
export class Model {
  readonly entries: Entry[] = [];
  allocations = 0;
  frees = 0;
  failedAllocations = 0;
  peakBytesUsed = 0;
  #nextSeed = 1;

  constructor(readonly pool: Pool) {}

  /** Records a new live block and fills it with a fresh pattern. */
  add(block: Block | null, offset: number, length: number, align: number): Entry {
    const entry: Entry = { block, offset, length, align, seed: this.#nextSeed++ };
    fillPattern(this.pool.buffer, offset, length, entry.seed);
    this.entries.push(entry);
    this.allocations++;
    return entry;
  }

  /** Forgets a freed block. */
  remove(entry: Entry): void {
    this.entries.splice(this.entries.indexOf(entry), 1);
    this.frees++;
  }

  /** The live handles, or the live raw blocks. */
  pick(handles: boolean, index: number): Entry | undefined {
    const matching = this.entries.filter((e) => (e.block !== null) === handles);
    return matching.length === 0 ? undefined : matching[index % matching.length];
  }

  /**
   * Asserts that the pool agrees with the model: every block's pattern is
   * intact, blocks are aligned and disjoint and are exactly the pool's used
   * blocks, and every counter matches.
   */
  verify(): void {
    const pool = this.pool;
    pool.check();
    const layout = walk(pool);
    this.peakBytesUsed = Math.max(this.peakBytesUsed, layout.bytesUsed);

    const sorted = [...this.entries].sort((a, b) => a.offset - b.offset);
    let previousEnd = 0;
    for (const entry of sorted) {
      assertPattern(pool.buffer, entry.offset, entry.length, entry.seed);
      assert.equal(entry.offset % entry.align, 0, `block at ${entry.offset} is aligned`);
      const capacity = pool.sizeOf(entry.offset);
      assert.ok(capacity >= entry.length, `block at ${entry.offset} holds its length`);
      assert.ok(
        capacity + Size.BlockHeader < wholeSizeFor(entry.length) + Size.MinBlock,
        `block at ${entry.offset} wastes no more than a smallest block`,
      );
      assert.ok(
        entry.offset - Size.BlockHeader >= previousEnd,
        `block at ${entry.offset} overlaps`,
      );
      previousEnd = entry.offset + capacity;
      if (entry.block !== null) {
        assert.ok(entry.block.live);
        assert.equal(entry.block.offset, entry.offset);
        assert.equal(entry.block.length, entry.length);
        assert.equal(entry.block.u8.length, entry.length);
      }
    }
    assert.deepEqual(
      layout.used,
      sorted.map((e) => ({ offset: e.offset, size: pool.sizeOf(e.offset) + Size.BlockHeader })),
      "the pool's used blocks are the model's live blocks",
    );

    const stats = pool.stats();
    assert.deepEqual(stats, {
      capacity: pool.byteLength,
      metadataBytes: stats.metadataBytes,
      bytesUsed: layout.bytesUsed,
      bytesFree: layout.bytesFree,
      largestFreeBlock: largestPayload(layout),
      liveBlocks: this.entries.length,
      freeBlocks: layout.freeBlocks,
      peakBytesUsed: this.peakBytesUsed,
      allocations: this.allocations,
      frees: this.frees,
      failedAllocations: this.failedAllocations,
      fragmentation: layout.bytesFree > 0 ? 1 - layout.largestFree / layout.bytesFree : 0,
    });
    assert.equal(stats.bytesUsed + stats.bytesFree + stats.metadataBytes, pool.byteLength);
    assert.equal(pool.bytesUsed(), layout.bytesUsed);
    assert.equal(pool.bytesFree(), layout.bytesFree);
    assert.equal(pool.largestFreeBlock(), largestPayload(layout));
  }
}
