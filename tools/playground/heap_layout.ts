// How a pool is drawn, by the playground and by the SVG writer alike: its
// bytes in rows of equal length, like a memory map, each block a stretch of
// them (wrapping onto the next row where it crosses one), coloured by what
// it is and by its size class or age.

import type { Segment } from "./pool_view.ts";
import { Size } from "../../src/engine/tlsf.ts";

/** Rows of bytes the pool is wrapped into. */
export interface RowLayout {
  /** Buffer offset of the pool's first byte. */
  base: number;
  /** Bytes in the pool. */
  bytes: number;
  /** Bytes in each row: a multiple of 8. */
  bytesPerRow: number;
  /** Rows: the last may be partly filled. */
  rows: number;
}

/** One rectangle of a segment: `width` bytes of row `row`, from byte `x` of that row. */
export interface Piece {
  row: number;
  x: number;
  width: number;
}

const ALIGN: number = Size.Align;

/** About `rows` rows for a pool of `bytes` bytes at `base`. */
export function rowLayout(base: number, bytes: number, rows: number): RowLayout {
  const bytesPerRow = Math.max(ALIGN, Math.ceil(bytes / rows / ALIGN) * ALIGN);
  return { base, bytes, bytesPerRow, rows: Math.ceil(bytes / bytesPerRow) };
}

/** The rectangles that draw `size` bytes from buffer offset `start`, one per row crossed. */
export function piecesOf(layout: RowLayout, start: number, size: number): Piece[] {
  const pieces: Piece[] = [];
  let at = start - layout.base;
  const end = at + size;
  while (at < end) {
    const row = Math.floor(at / layout.bytesPerRow);
    const x = at - row * layout.bytesPerRow;
    const width = Math.min(end - at, layout.bytesPerRow - x);
    pieces.push({ row, x, width });
    at += width;
  }
  return pieces;
}

/** Size classes of used blocks, by whole block size: each class holds sizes up to its bound. */
export const SIZE_CLASSES: readonly { upTo: number; label: string; colour: string }[] = [
  { upTo: 32, label: "≤ 32 B", colour: "#fde725" },
  { upTo: 128, label: "≤ 128 B", colour: "#a0da39" },
  { upTo: 512, label: "≤ 512 B", colour: "#4ac16d" },
  { upTo: 2048, label: "≤ 2 KiB", colour: "#1fa187" },
  { upTo: 8192, label: "≤ 8 KiB", colour: "#277f8e" },
  { upTo: 32768, label: "≤ 32 KiB", colour: "#365c8d" },
  { upTo: 131072, label: "≤ 128 KiB", colour: "#46327e" },
  { upTo: Infinity, label: "larger", colour: "#440154" },
];

/** Colours of what is not a used block. */
export const COLOURS = {
  /** A free block in a bin: a hole between used blocks. */
  free: "#fca5a5",
  /** A free slot in a run: free, but only for requests of its run's size class. */
  slotFree: "#f5d0fe",
  /** The top block: untouched space at the pool's end. */
  top: "#e2e8f0",
  /** Header, bitmaps, bin heads, the runs tier's words and map, run headers, and sentinel. */
  meta: "#1e293b",
} as const;

/** Index into SIZE_CLASSES of a used block of `size` bytes. */
export function sizeClassOf(size: number): number {
  let c = 0;
  while (size > SIZE_CLASSES[c]!.upTo) c++;
  return c;
}

/** The colour of a segment, by size class; a run's header and tail are metadata. */
export function colourOf(segment: Segment): string {
  switch (segment.kind) {
    case "used":
      return SIZE_CLASSES[sizeClassOf(segment.size)]!.colour;
    case "free":
      return segment.slot === undefined ? COLOURS.free : COLOURS.slotFree;
    case "top":
      return COLOURS.top;
    default:
      return COLOURS.meta;
  }
}

/** A used block's colour by age: `age` 0 for the newest block, 1 for the oldest. */
export function ageColour(age: number): string {
  const last = SIZE_CLASSES.length - 1;
  return SIZE_CLASSES[Math.round(Math.min(1, Math.max(0, age)) * last)]!.colour;
}
