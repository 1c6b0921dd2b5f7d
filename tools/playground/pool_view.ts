// What a picture of a pool needs, read from the pool's own bytes with the
// layout of docs/layout.md: its pieces in address order (metadata, used and
// free blocks, the top block, the sentinel), each block's header fields, and
// the bin a free block is filed in. Shared by the playground page and the
// SVG writer, so the two draw the same pool the same way. It reads the
// layout's constants from the engine but calls nothing there that mod.ts
// does not export.

import type { Pool } from "../../mod.ts";
import { Bins, Flag, FreeField, HeaderWord, Size, UsedField } from "../../src/engine/tlsf.ts";

/** What a stretch of the pool is. */
export type SegmentKind = "meta" | "used" | "free" | "top" | "sentinel";

/** One stretch of the pool, in buffer offsets. */
export interface Segment {
  /** First byte, as an offset into the pool's buffer. */
  start: number;
  /** Bytes in the stretch: a whole block for blocks. */
  size: number;
  kind: SegmentKind;
}

/** A bin of the two-level index: row `fl`, column `sl`, holding sizes `min` to `max`. */
export interface Bin {
  fl: number;
  sl: number;
  /** `fl · 32 + sl`, as the engine numbers bins. */
  index: number;
  min: number;
  max: number;
}

/** A block's header fields as the pool stores them. */
export interface BlockFields {
  /** The header word: size with the flag bits. */
  header: number;
  /** Flag.Free. */
  free: boolean;
  /** Flag.PrevFree: the block before is free and its footer valid. */
  prevFree: boolean;
  /** A used block's check word. */
  check?: number;
  /** A binned free block's list links, as buffer offsets of blocks (0 for none). */
  next?: number;
  prev?: number;
  /** A binned free block's footer: its size again. */
  footer?: number;
}

const WORD: number = Size.Word;

/** Typed views of a pool's words, and its geometry, all relative to the pool's first byte. */
export class PoolView {
  readonly pool: Pool;
  readonly base: number;
  readonly u32: Uint32Array;

  constructor(pool: Pool) {
    this.pool = pool;
    this.base = pool.byteOffset;
    this.u32 = new Uint32Array(pool.buffer, pool.byteOffset, pool.byteLength / WORD);
  }

  /** Rows of bins (first-level classes). */
  get rows(): number {
    return this.u32[HeaderWord.FlCount]!;
  }

  /** Buffer offset of the first block: everything before it is metadata. */
  get first(): number {
    return this.base + this.u32[HeaderWord.First]!;
  }

  /** Buffer offset of the end sentinel. */
  get end(): number {
    return this.base + this.u32[HeaderWord.End]!;
  }

  /** Buffer offset of the top block; `end` when it is empty. */
  get top(): number {
    return this.base + this.u32[HeaderWord.Top]!;
  }

  /** The pool in address order: metadata, every block, the sentinel. They tile the pool. */
  segments(): Segment[] {
    const top = this.top;
    const out: Segment[] = [{ start: this.base, size: this.first - this.base, kind: "meta" }];
    for (const block of this.pool.blocks()) {
      const kind = !block.free ? "used" : block.blockStart === top ? "top" : "free";
      out.push({ start: block.blockStart, size: block.blockSize, kind });
    }
    out.push({ start: this.end, size: Size.Sentinel, kind: "sentinel" });
    return out;
  }

  /** The header fields of the block at buffer offset `start`. */
  fields(start: number): BlockFields {
    const b = start - this.base;
    const header = this.u32[b / WORD]!;
    const free = (header & Flag.Free) !== 0;
    const fields: BlockFields = { header, free, prevFree: (header & Flag.PrevFree) !== 0 };
    if (!free) {
      fields.check = this.u32[(b + UsedField.Check) / WORD]!;
    } else if (start !== this.top) {
      const size = header & ~Flag.Mask;
      fields.next = this.linkTarget(this.u32[(b + FreeField.Next) / WORD]!);
      fields.prev = this.linkTarget(this.u32[(b + FreeField.Prev) / WORD]!);
      fields.footer = this.u32[(b + size - FreeField.FooterFromEnd) / WORD]!;
    }
    return fields;
  }

  /** A link as a buffer offset; links below the first block are bin head nodes or none: 0. */
  linkTarget(link: number): number {
    return this.base + link >= this.first ? this.base + link : 0;
  }

  /** The bin a free block of `size` bytes is filed in, as the engine's binIndex computes it. */
  binOf(size: number): Bin {
    let fl = 0;
    let sl = size >>> Size.AlignLog2;
    if (size >= Bins.SmallLimit) {
      const f = 31 - Math.clz32(size);
      fl = f - Bins.SmallLimitLog2 + 1;
      sl = (size >>> (f - Bins.SlLog2)) & (Bins.SlCount - 1);
      // A grown pool's blocks beyond its last row share the last bin.
      if (fl >= this.rows) [fl, sl] = [this.rows - 1, Bins.SlCount - 1];
    }
    return binAt(fl, sl);
  }

  /** Buffer offsets of the blocks in bin `index`'s list, head first. */
  binMembers(index: number): number[] {
    const members: number[] = [];
    const limit = (this.end - this.first) / Size.MinBlock;
    let link = this.u32[HeaderWord.SlBitmaps + this.rows + index]!;
    while (link !== 0 && members.length < limit) {
      members.push(this.base + link);
      link = this.u32[(link + FreeField.Next) / WORD]!;
    }
    return members;
  }

  /** Every bin the second-level bitmaps mark as non-empty, with how many blocks it holds. */
  nonEmptyBins(): { bin: Bin; count: number }[] {
    const out = [];
    for (let fl = 0; fl < this.rows; fl++) {
      const map = this.u32[HeaderWord.SlBitmaps + fl]!;
      for (let sl = 0; sl < Bins.SlCount; sl++) {
        if ((map >>> sl) & 1) {
          const bin = binAt(fl, sl);
          out.push({ bin, count: this.binMembers(bin.index).length });
        }
      }
    }
    return out;
  }
}

/** The sizes bin `(fl, sl)` holds. */
export function binAt(fl: number, sl: number): Bin {
  const index = fl * Bins.SlCount + sl;
  if (fl === 0) {
    const min = sl << Size.AlignLog2;
    return { fl, sl, index, min, max: min + Size.Align - 1 };
  }
  const width = 2 ** (fl + Bins.SmallLimitLog2 - 1 - Bins.SlLog2);
  const min = 2 ** (fl + Bins.SmallLimitLog2 - 1) + sl * width;
  return { fl, sl, index, min, max: min + width - 1 };
}
