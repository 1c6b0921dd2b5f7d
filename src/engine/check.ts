/**
 * The invariant checker behind `Pool.check()`: walks every block and every
 * free list, bounded by the pool's size so a damaged pool cannot hang it.
 *
 * @module
 */

import { corrupt } from "../common/errors.ts";
import {
  Bins,
  checkWord,
  Flag,
  FreeField,
  HeaderF64,
  HeaderWord,
  Size,
  type Tlsf,
  UsedField,
  Value,
} from "./tlsf.ts";
import { Runs } from "./runs.ts";
import { checkRuns } from "./check_runs.ts";

/** Throws `PoolError("corrupt")` at the first broken invariant of the pool. */
export function checkPool(tlsf: Tlsf): void {
  const { u32, first, end, rows, heads } = tlsf;
  if (u32[HeaderWord.Magic] !== Value.Magic || u32[HeaderWord.Version] !== Value.Version) {
    corrupt("its header's magic number or layout version is overwritten");
  }
  if (
    u32[HeaderWord.End] !== end || u32[HeaderWord.First] !== first ||
    u32[HeaderWord.FlCount] !== rows || u32[HeaderWord.Key] !== tlsf.key
  ) {
    corrupt("its header's geometry (end, first block, size classes) was overwritten");
  }
  const top = u32[HeaderWord.Top]!;
  if (top < first || top > end) corrupt(`the top block offset ${top} is outside the blocks`);

  // Physical walk: sizes tile [first, end), flags agree with neighbours.
  const binned = new Set<number>();
  let used = 0;
  let live = 0;
  const runs: number[] = [];
  let prevFree = false;
  let b = first;
  while (b < end) {
    const h = u32[b >>> 2]!;
    const size = tlsf.sizeAt(b);
    if (size < Size.MinBlock || b + size > end) {
      corrupt(`the block at ${b} has an impossible size, ${size}`);
    }
    if (((h & Flag.PrevFree) !== 0) !== prevFree) {
      corrupt(
        `the block at ${b} says its predecessor is ${prevFree ? "used" : "free"}, which is wrong`,
      );
    }
    const free = (h & Flag.Free) !== 0;
    if (free && prevFree) corrupt(`the free block at ${b} touches another free block`);
    if (free) {
      if (b === top) {
        if (b + size !== end) corrupt(`the top block at ${b} does not reach the pool's end`);
      } else {
        if (u32[(b + size - FreeField.FooterFromEnd) >>> 2] !== size) {
          corrupt(`the free block at ${b} has a footer that disagrees with its size ${size}`);
        }
        binned.add(b);
      }
    } else {
      if (b === top) corrupt(`the top block at ${b} is marked used`);
      if (tlsf instanceof Runs && tlsf.runAt(b) !== null) {
        // A run: checked, with its slots, once the walk has found every run.
        runs.push(b);
        prevFree = false;
        b += size;
        continue;
      }
      const check = u32[(b + UsedField.Check) >>> 2]!;
      const plain = checkWord(tlsf.key, b, size);
      // A block a `Block` handle owns has the handle mark in its check word.
      if (check !== plain && check !== ((plain ^ Value.HandleMark) >>> 0)) {
        corrupt(`the used block at ${b} has a check word that does not match its offset and size`);
      }
      used += size;
      live++;
    }
    prevFree = free;
    b += size;
  }
  if (b !== end) corrupt(`the blocks end at ${b}, not at the sentinel ${end}`);
  const sentinel = u32[end >>> 2]!;
  if (
    (sentinel & ~Flag.PrevFree) !== Value.Sentinel ||
    ((sentinel & Flag.PrevFree) !== 0) !== prevFree
  ) {
    corrupt(`the end sentinel is overwritten`);
  }
  if ((top === end) === prevFree) corrupt(`the top block offset ${top} is not the last free block`);

  // Free lists: every binned block in its own bin, linked both ways, bitmaps in step.
  let listed = 0;
  let largest = 0;
  const lastBin = rows * Bins.SlCount - 1;
  for (let fl = 0; fl < rows; fl++) {
    // The sizes each bin holds come from the size classes' definition (docs/layout.md), not
    // from `binIndex`: a wrong mapping files a block in the bin where it then looks for it.
    // Row 0 spans [0, SmallLimit), row fl above it [SmallLimit · 2^(fl-1), SmallLimit · 2^fl),
    // each split into SlCount bins of equal width.
    const rowStart = fl === 0 ? 0 : Bins.SmallLimit * 2 ** (fl - 1);
    const width = (fl === 0 ? Bins.SmallLimit : rowStart) / Bins.SlCount;
    const slMap = u32[HeaderWord.SlBitmaps + fl]!;
    if (((u32[HeaderWord.FlBitmap]! >>> fl) & 1) !== (slMap !== 0 ? 1 : 0)) {
      corrupt(`the first-level bitmap disagrees with row ${fl}`);
    }
    for (let sl = 0; sl < Bins.SlCount; sl++) {
      const bin = fl * Bins.SlCount + sl;
      const low = rowStart + sl * width;
      // The pool's last bin would also take any larger size, as `binIndex` says.
      const high = bin === lastBin ? Infinity : low + width;
      let prev = tlsf.headNode(bin);
      let n = u32[heads + bin]!;
      if (((slMap >>> sl) & 1) !== (n !== Value.Nil ? 1 : 0)) {
        corrupt(`the bitmap of row ${fl} disagrees with bin ${sl}`);
      }
      while (n !== Value.Nil) {
        if (!binned.delete(n)) {
          corrupt(`bin ${bin} lists ${n}, which is not a free block or is listed twice`);
        }
        const size = tlsf.sizeAt(n);
        if (size < low || size >= high) {
          corrupt(`the free block at ${n}, size ${size}, is in bin ${bin}: [${low}, ${high})`);
        }
        if (u32[(n + FreeField.Prev) >>> 2] !== prev) {
          corrupt(`the free block at ${n} has a wrong back link`);
        }
        if (size > largest) largest = size;
        listed++;
        prev = n;
        n = u32[(n + FreeField.Next) >>> 2]!;
      }
    }
  }
  if (binned.size > 0) corrupt(`the free block at ${binned.values().next().value} is in no bin`);

  if (tlsf instanceof Runs) {
    const slots = checkRuns(tlsf, runs);
    used += slots.used;
    live += slots.live;
  }

  // Counters.
  if (u32[HeaderWord.FreeBlocks] !== listed) {
    corrupt(`it counts ${u32[HeaderWord.FreeBlocks]} free blocks, not ${listed}`);
  }
  const counted = tlsf.f64[HeaderF64.Allocations]! - tlsf.f64[HeaderF64.Frees]!;
  if (counted !== live) corrupt(`it counts ${counted} live blocks, not ${live}`);
  if (u32[HeaderWord.BytesUsed] !== used) {
    corrupt(`it counts ${u32[HeaderWord.BytesUsed]} bytes used, not ${used}`);
  }
  // The peak is at least what is in use now, and at most what the blocks can hold.
  const peak = u32[HeaderWord.PeakUsed]!;
  if (peak < used || peak > tlsf.end - tlsf.first) {
    corrupt(`it records ${peak} as the peak of bytes used, with ${used} in use now`);
  }
  const cached = u32[HeaderWord.Largest]!;
  if (cached & Value.LargestStale) {
    const bound = cached - Value.LargestStale;
    if (bound < largest) {
      corrupt(`it records ${bound} as a bound on the free blocks' sizes, but one is ${largest}`);
    }
  } else if (cached !== largest) {
    corrupt(`it records ${cached} as the largest free block, not ${largest}`);
  }
}
