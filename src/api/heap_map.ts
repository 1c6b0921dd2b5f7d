/**
 * A pool drawn as one line of text: `heapMap`.
 *
 * @module
 */

import { Size } from "../engine/tlsf.ts";
import { RunField } from "../engine/runs.ts";
import { Pool } from "./pool.ts";
import { checkOptions, describe } from "../common/validate.ts";

/** How `heapMap` draws a pool. */
export interface HeapMapOptions {
  /** Characters in the map, at least 2. Default 64. */
  width?: number;
  /** Colour the map with ANSI escape codes, for terminals. Default false: plain text. */
  color?: boolean;
}

const DEFAULT_WIDTH = 64;
/** The fewest cells that can show both metadata and blocks. */
const MIN_WIDTH = 2;

// Cell states, indexing GLYPHS and COLORS.
const FREE_CELL = 0;
const USED_CELL = 1;
const META_CELL = 2;
const GLYPHS = ["░", "█", "≡"];
const COLORS = ["\x1b[90m", "\x1b[36m", "\x1b[35m"];
const RESET = "\x1b[0m";

/**
 * Draws a pool as one line of `width` cells: `≡` for the pool's metadata at
 * the left, then `█` for used blocks and `░` for free ones, in proportion to
 * their sizes. A small block is a slot in a run (see `docs/layout.md`):
 * a run's header is drawn as used while a slot of it is live, as free
 * (as `bytesFree` counts it) while the run is empty.
 *
 * The metadata in front of the first block gets its share of the width,
 * rounded, but always at least one cell; the blocks share the other cells
 * in proportion to their bytes. A cell is drawn free only when every byte
 * it covers is free: one used byte makes it used, so the smallest block
 * still shows in the largest pool, while a free gap narrower than a cell
 * can hide between used cells (`Pool.bytesFree` still counts it). The end
 * sentinel's 8 bytes are not drawn.
 *
 * With `color`, the same characters come wrapped in ANSI colours
 * (metadata magenta, used cyan, free grey) and the line ends with a reset.
 *
 * It walks every block, so it costs O(blocks + width).
 *
 * @param pool The pool to draw.
 * @param options The width and whether to colour it.
 * @returns The map: exactly `width` characters, plus escape codes with `color`.
 * @throws {TypeError} If `pool` is not a `Pool`, `options.width` not a number, or
 * `options` has a key it does not know.
 * @throws {RangeError} If `options.width` is not a whole number of at least 2.
 * @throws {PoolError} `corrupt` if the pool's blocks cannot be walked.
 *
 * @example A block at the front, free space behind it
 * ```ts
 * import { heapMap, Pool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(4096);
 * pool.allocate(1000);
 * const map = heapMap(pool, { width: 32 });
 * assert.equal(map.length, 32);
 * assert.match(map, /^≡+█+░+$/);
 * ```
 *
 * @example Colour for a terminal
 * ```ts
 * import { heapMap, Pool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(4096);
 * assert.ok(heapMap(pool, { color: true }).includes("\x1b["));
 * assert.ok(!heapMap(pool).includes("\x1b["));
 * ```
 */
export function heapMap(pool: Pool, options: HeapMapOptions = {}): string {
  if (!(pool instanceof Pool)) {
    throw new TypeError(`heapMap() takes a Pool, but got ${describe(pool)}.`);
  }
  checkOptions(options, "heapMap()'s options", ["width", "color"]);
  const { width = DEFAULT_WIDTH, color } = options;
  if (typeof width !== "number") {
    throw new TypeError(`width must be a number, but got ${describe(width)}.`);
  }
  if (!Number.isSafeInteger(width) || width < MIN_WIDTH) {
    throw new RangeError(
      `width must be a whole number of at least ${MIN_WIDTH}, but got ${width}.`,
    );
  }

  // Blocks, slots and the runs' headers and tails tile [first, end); the sentinel is the
  // last word of the pool.
  const end = pool.byteOffset + pool.byteLength - Size.Sentinel;
  const states = new Uint8Array(width).fill(FREE_CELL);
  let first = -1;
  let metaCells = 0;
  let span = 0;
  // Every cell that overlaps [from, to) by any amount holds a used byte.
  const use = (from: number, to: number) => {
    const cells = width - metaCells;
    const lo = Math.floor(((from - first) * cells) / span);
    const hi = Math.ceil(((to - first) * cells) / span);
    states.fill(USED_CELL, metaCells + lo, metaCells + hi);
  };
  // The bytes of the run being walked that are not slots (its header, then its tail), and
  // whether a slot of it is live: only then are they metadata, else free with the run.
  let runStart = -1;
  let runLive = false;
  let at = -1;
  const endRun = (to: number) => {
    if (runLive) use(runStart, runStart + RunField.Header);
    if (runLive && to > at) use(at, to);
    runStart = -1;
    runLive = false;
  };
  for (const block of pool.blocks()) {
    // A slot has no header: its offset is its start. A run's header comes before its first.
    const slot = block.offset === block.blockStart;
    if (first < 0) {
      first = slot ? block.blockStart - RunField.Header : block.blockStart;
      const share = Math.round(((first - pool.byteOffset) / pool.byteLength) * width);
      metaCells = Math.min(width - 1, Math.max(1, share));
      span = end - first;
      states.fill(META_CELL, 0, metaCells);
      at = first;
    }
    if (block.blockStart !== at || !slot) {
      // A gap before a slot is the last run's tail (under 16 bytes) and this run's header.
      const tailEnd = slot ? block.blockStart - RunField.Header : block.blockStart;
      if (runStart >= 0) endRun(tailEnd);
      if (slot) runStart = tailEnd;
    }
    at = block.blockStart + block.blockSize;
    if (block.free) continue;
    if (slot) runLive = true;
    use(block.blockStart, at);
  }
  if (runStart >= 0) endRun(end);

  let map = "";
  let previous = -1;
  for (const state of states) {
    if (color && state !== previous) map += COLORS[state];
    map += GLYPHS[state];
    previous = state;
  }
  return color ? map + RESET : map;
}
