/**
 * The invariant checker behind `Pool.check()`: walks every block and every
 * free list, bounded by the pool's size so a damaged pool cannot hang it.
 *
 * @module
 */

import { PoolError } from "./errors.ts";
import {
  BYTES_USED_F64,
  END_WORD,
  FIRST_WORD,
  FL_BITMAP_WORD,
  FL_COUNT_WORD,
  FOOTER_FROM_END,
  FREE,
  FREE_BLOCKS_WORD,
  LARGEST_UNKNOWN,
  LARGEST_WORD,
  LIVE_BLOCKS_WORD,
  MAGIC,
  MAGIC_WORD,
  MIN_BLOCK,
  NEXT_FREE,
  NIL,
  PREV_FREE,
  PREV_FREE_LINK,
  SENTINEL,
  SL_BITMAPS_WORD,
  SL_COUNT,
  TOP_WORD,
} from "./layout.ts";
import { sizeOfHeader, type Tlsf } from "./tlsf.ts";

function fail(message: string): never {
  throw new PoolError("corrupt", `The pool is corrupt: ${message}.`);
}

/** Throws `PoolError("corrupt")` at the first broken invariant of the pool. */
export function checkPool(tlsf: Tlsf): void {
  const { u32, f64, first, end, flCount, heads } = tlsf;
  if (u32[MAGIC_WORD] !== MAGIC) fail("its header's magic number is overwritten");
  if (u32[END_WORD] !== end || u32[FIRST_WORD] !== first || u32[FL_COUNT_WORD] !== flCount) {
    fail("its header's geometry (end, first block, size classes) was overwritten");
  }
  const top = u32[TOP_WORD]!;
  if (top < first || top > end) fail(`the top block offset ${top} is outside the blocks`);

  // Physical walk: sizes tile [first, end), flags agree with neighbours.
  const binned = new Set<number>();
  let used = 0;
  let live = 0;
  let prevFree = false;
  let b = first;
  while (b < end) {
    const h = u32[b >>> 2]!;
    const size = sizeOfHeader(h);
    if (size < MIN_BLOCK || b + size > end) {
      fail(`the block at ${b} has an impossible size, ${size}`);
    }
    if (((h & PREV_FREE) !== 0) !== prevFree) {
      fail(
        `the block at ${b} says its predecessor is ${prevFree ? "used" : "free"}, which is wrong`,
      );
    }
    const free = (h & FREE) !== 0;
    if (free && prevFree) fail(`the free block at ${b} touches another free block`);
    if (free) {
      if (b === top) {
        if (b + size !== end) fail(`the top block at ${b} does not reach the pool's end`);
      } else {
        if (u32[(b + size - FOOTER_FROM_END) >>> 2] !== size) {
          fail(`the free block at ${b} has a footer that disagrees with its size ${size}`);
        }
        binned.add(b);
      }
    } else {
      if (b === top) fail(`the top block at ${b} is marked used`);
      used += size;
      live++;
    }
    prevFree = free;
    b += size;
  }
  if (b !== end) fail(`the blocks end at ${b}, not at the sentinel ${end}`);
  const sentinel = u32[end >>> 2]!;
  if (sizeOfHeader(sentinel) !== SENTINEL || ((sentinel & PREV_FREE) !== 0) !== prevFree) {
    fail(`the end sentinel is overwritten`);
  }
  if ((top === end) === prevFree) fail(`the top block offset ${top} is not the last free block`);

  // Free lists: every binned block in its own bin, linked both ways, bitmaps in step.
  let listed = 0;
  let largest = 0;
  for (let fl = 0; fl < flCount; fl++) {
    const slMap = u32[SL_BITMAPS_WORD + fl]!;
    if (((u32[FL_BITMAP_WORD]! >>> fl) & 1) !== (slMap !== 0 ? 1 : 0)) {
      fail(`the first-level bitmap disagrees with row ${fl}`);
    }
    for (let sl = 0; sl < SL_COUNT; sl++) {
      const bin = fl * SL_COUNT + sl;
      let prev = NIL;
      let n = u32[heads + bin]!;
      if (((slMap >>> sl) & 1) !== (n !== NIL ? 1 : 0)) {
        fail(`the bitmap of row ${fl} disagrees with bin ${sl}`);
      }
      while (n !== NIL) {
        if (!binned.delete(n)) {
          fail(`bin ${bin} lists ${n}, which is not a free block or is listed twice`);
        }
        const size = sizeOfHeader(u32[n >>> 2]!);
        if (tlsf.binIndex(size) !== bin) {
          fail(`the free block at ${n} (size ${size}) is in bin ${bin}`);
        }
        if (u32[(n + PREV_FREE_LINK) >>> 2] !== prev) {
          fail(`the free block at ${n} has a wrong back link`);
        }
        if (size > largest) largest = size;
        listed++;
        prev = n;
        n = u32[(n + NEXT_FREE) >>> 2]!;
      }
    }
  }
  if (binned.size > 0) fail(`the free block at ${binned.values().next().value} is in no bin`);

  // Counters.
  if (u32[FREE_BLOCKS_WORD] !== listed) {
    fail(`it counts ${u32[FREE_BLOCKS_WORD]} free blocks, not ${listed}`);
  }
  if (u32[LIVE_BLOCKS_WORD] !== live) {
    fail(`it counts ${u32[LIVE_BLOCKS_WORD]} live blocks, not ${live}`);
  }
  if (f64[BYTES_USED_F64] !== used) {
    fail(`it counts ${f64[BYTES_USED_F64]} bytes used, not ${used}`);
  }
  const cached = u32[LARGEST_WORD]!;
  if (cached !== LARGEST_UNKNOWN && cached !== largest) {
    fail(`it records ${cached} as the largest free block, not ${largest}`);
  }
}
