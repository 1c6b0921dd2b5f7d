/**
 * Shared test helpers: a per-block byte pattern, a walk of `Pool.blocks()`
 * that checks the tiling, and pool sizes. The model that random operations
 * are judged against is `tools/_oracle.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Block, Pool, PoolStats } from "../mod.ts";
import { firstBlockOffset, metadataBytes, rowsFor, Size } from "../src/engine/tlsf.ts";
import { runsMetadata } from "../src/engine/runs.ts";
import { expectedLayout } from "../tools/_oracle.ts";

export { wholeSizeFor } from "../tools/_oracle.ts";

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

/**
 * The pool size with exactly `bytes` of room for blocks after its metadata,
 * whose own size grows with the pool's: more rows of bins, and from
 * RunMap.MinPool on, the runs tier's words and map.
 */
export function poolWithRoomFor(bytes: number): number {
  const metadata = (size: number) =>
    firstBlockOffset(rowsFor(size), runsMetadata(size - Size.Sentinel)) + Size.Sentinel;
  let size = bytes + metadata(bytes);
  while (bytes + metadata(size) !== size) size = bytes + metadata(size);
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
  // Where the blocks start comes from the layout's arithmetic, not from the pool.
  let expected = pool.byteOffset + expectedLayout(pool.byteLength).first;
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
