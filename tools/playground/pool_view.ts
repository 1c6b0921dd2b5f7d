// What a picture of a pool needs, read from the pool's own bytes with the
// layout of docs/layout.md: its pieces in address order (metadata, used and
// free blocks, runs' headers and slots, the top block, the sentinel), each
// block's header fields, a run's fields, and the bin a free block is filed in. Shared by the playground page and the
// SVG writer, so the two draw the same pool the same way. It reads the
// layout's constants from the engine but calls nothing there that mod.ts
// does not export.

import type { Pool } from "../../mod.ts";
import {
  Bins,
  Flag,
  FreeField,
  HeaderWord,
  headsEnd,
  Size,
  UsedField,
} from "../../src/engine/tlsf.ts";
import { RunField, RunInfo, RunMap, RunsWord, Slot, slotSize } from "../../src/engine/runs.ts";

/**
 * What a stretch of the pool is: "run" is a run's header or tail, metadata
 * of the runs tier; a slot is "used" or "free" with `slot` set.
 */
export type SegmentKind = "meta" | "run" | "used" | "free" | "top" | "sentinel";

/** One stretch of the pool, in buffer offsets. */
export interface Segment {
  /** First byte, as an offset into the pool's buffer. */
  start: number;
  /** Bytes in the stretch: a whole block for blocks. */
  size: number;
  kind: SegmentKind;
  /** Buffer offset of the run a slot, or a run's header or tail, belongs to. */
  run?: number;
  /** A slot's index in its run. */
  slot?: number;
}

/** A run's header, as the pool stores it (see docs/layout.md, "Runs"). */
export interface RunFields {
  /** Buffer offset of the run's first byte. */
  start: number;
  /** Its header word: the block's size with its flags. */
  header: number;
  /** Whole bytes of the run, header and tail included. */
  size: number;
  check: number;
  info: number;
  /** Size class, slot size and slot count, from `info`. */
  k: number;
  slotSize: number;
  count: number;
  /** Bit i set while slot i is free; while a `Block` owns it. */
  free: number;
  handles: number;
  /** The class list's links, as buffer offsets of runs: 0 for none or the class's head. */
  next: number;
  prev: number;
  /** Bit i set while slot i is live: each slot is in exactly one of `free` and `live`. */
  live: number;
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
const RUN_HEADER: number = RunField.Header;

/** Buffer offset of the payload of the block or slot a segment is: a slot has no header. */
export function payloadOf(segment: Segment): number {
  return segment.slot === undefined ? segment.start + Size.BlockHeader : segment.start;
}

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

  /** Pool offset of the runs tier's first word, past the bin heads. */
  get #runsWords(): number {
    return headsEnd(this.rows) / WORD;
  }

  /**
   * Pool offset below which runs lie; 0 in a pool without runs, whose
   * blocks start right after the bin heads (and their padding).
   */
  get mapEnd(): number {
    const hasRuns = this.u32[HeaderWord.First]! > headsEnd(this.rows) + WORD;
    return hasRuns ? this.u32[this.#runsWords + RunsWord.MapEnd]! : 0;
  }

  /**
   * The run at buffer offset `start`, or undefined if no run starts there:
   * its chunk's map entry leads back to `start` only if one does (a run is
   * longer than a chunk, so it holds the last byte of the chunk it starts in).
   */
  runAt(start: number): RunFields | undefined {
    const b = start - this.base;
    if (b < this.first - this.base || b >= this.mapEnd || b % Size.Align !== 0) return undefined;
    const u32 = this.u32;
    const header = u32[b / WORD]!;
    if ((header & Flag.Free) !== 0) return undefined;
    const g = b >>> RunMap.ChunkLog2;
    const map = (this.#runsWords + RunsWord.Map) * WORD;
    const entry = new Uint8Array(this.pool.buffer, this.base + map + g, 1)[0]!;
    if (entry === 0 || ((g + 1) << RunMap.ChunkLog2) - entry * Slot.Step !== b) return undefined;
    const info = u32[(b + RunField.Info) / WORD]!;
    const k = (info >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    return {
      start,
      header,
      size: (header & ~Flag.Mask) >>> 0,
      check: u32[(b + UsedField.Check) / WORD]!,
      info,
      k,
      slotSize: slotSize(k),
      count: (info >>> RunInfo.CountShift) & RunInfo.CountMask,
      free: u32[(b + RunField.Free) / WORD]!,
      handles: u32[(b + RunField.Handles) / WORD]!,
      next: this.linkTarget(u32[(b + RunField.Next) / WORD]!),
      prev: this.linkTarget(u32[(b + RunField.Prev) / WORD]!),
      live: u32[(b + RunField.Live) / WORD]!,
    };
  }

  /**
   * The pool in address order: metadata, every block, each run's header,
   * slots and tail, the sentinel. They tile the pool.
   */
  segments(): Segment[] {
    const top = this.top;
    const out: Segment[] = [{ start: this.base, size: this.first - this.base, kind: "meta" }];
    let run: RunFields | undefined;
    let slot = 0;
    // A run's tail (0 or 8 bytes past its last slot) comes before whatever follows it.
    const tail = (at: number) => {
      if (run !== undefined && run.start + run.size > at) {
        out.push({ start: at, size: run.start + run.size - at, kind: "run", run: run.start });
      }
      run = undefined;
    };
    let at = this.first;
    for (const block of this.pool.blocks()) {
      // blocks() gives a slot with blockStart === offset: it has no header of its own.
      if (block.offset === block.blockStart) {
        const head = this.runAt(block.blockStart - RUN_HEADER);
        if (head !== undefined) {
          tail(at);
          run = head;
          slot = 0;
          out.push({ start: head.start, size: RUN_HEADER, kind: "run", run: head.start });
        }
        const kind = block.free ? "free" : "used";
        const segment: Segment = { start: block.blockStart, size: block.blockSize, kind, slot };
        if (run !== undefined) segment.run = run.start;
        out.push(segment);
        slot++;
      } else {
        tail(at);
        const kind = !block.free ? "used" : block.blockStart === top ? "top" : "free";
        out.push({ start: block.blockStart, size: block.blockSize, kind });
      }
      at = block.blockStart + block.blockSize;
    }
    tail(at);
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
