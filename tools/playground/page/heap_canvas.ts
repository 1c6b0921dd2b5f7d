/// <reference lib="dom" />
// The pool drawn to scale on a canvas: rows of bytes like a memory map, each
// block, slot and run header a rectangle as long as it is, and the way back from a point on the
// canvas to the block under it.

import { ageColour, colourOf, piecesOf, type RowLayout, rowLayout } from "../heap_layout.ts";
import { payloadOf, PoolView, type Segment } from "../pool_view.ts";
import type { Session } from "../session.ts";

/** Rows the pool is wrapped into. */
const ROWS = 24;
const ROW_HEIGHT = 18;
const ROW_GAP = 4;
/** Room on the left for each row's first offset. */
const GUTTER = 70;
const OUTLINE = "#0f172a";
const BIN_OUTLINE = "#dc2626";
const BLOCK_EDGE = "rgba(255,255,255,0.9)";
/** A block narrower than this many pixels gets no edge line, which would hide it. */
const MIN_EDGED_WIDTH = 4;

export type ColourMode = "size" | "age";

export class HeapCanvas {
  readonly canvas: HTMLCanvasElement;
  readonly session: Session;
  mode: ColourMode = "size";
  /** Payload offsets of blocks to outline. */
  highlight: number[] = [];
  /** Buffer offsets of blocks to outline in red: the bin of the block hovered. */
  binMates: number[] = [];
  segments: Segment[] = [];
  layout: RowLayout = rowLayout(0, 1, ROWS);
  #view: PoolView | null = null;
  #width = 0;

  constructor(canvas: HTMLCanvasElement, session: Session) {
    this.canvas = canvas;
    this.session = session;
  }

  get view(): PoolView {
    if (this.#view === null || this.#view.pool !== this.session.pool) {
      this.#view = new PoolView(this.session.pool);
    }
    return this.#view;
  }

  /** Bytes per pixel along a row. */
  get scale(): number {
    return this.layout.bytesPerRow / (this.#width - GUTTER);
  }

  draw(): void {
    const view = this.view;
    const pool = this.session.pool;
    this.segments = view.segments();
    this.layout = rowLayout(pool.byteOffset, pool.byteLength, ROWS);
    const ratio = globalThis.devicePixelRatio || 1;
    this.#width = this.canvas.clientWidth;
    const height = this.layout.rows * (ROW_HEIGHT + ROW_GAP);
    this.canvas.width = Math.round(this.#width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.height = `${height}px`;
    const g = this.canvas.getContext("2d")!;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, this.#width, height);
    g.font = "11px ui-monospace, SFMono-Regular, Menlo, monospace";
    g.fillStyle = "#64748b";
    g.textBaseline = "middle";
    for (let row = 0; row < this.layout.rows; row++) {
      const offset = this.layout.base + row * this.layout.bytesPerRow;
      g.fillText(offset.toLocaleString("en-US"), 4, this.#rowY(row) + ROW_HEIGHT / 2);
    }
    const ages = this.#ageSpan();
    for (const segment of this.segments) {
      g.fillStyle = segment.kind === "used" && this.mode === "age"
        ? ageColour(ages.ageOf(payloadOf(segment)))
        : colourOf(segment);
      for (const piece of piecesOf(this.layout, segment.start, segment.size)) {
        const x = this.#x(piece.x);
        const w = Math.max(piece.width / this.scale, 1);
        g.fillRect(x, this.#rowY(piece.row), w, ROW_HEIGHT);
        if (
          w >= MIN_EDGED_WIDTH &&
          piece.x === segment.start - this.layout.base - piece.row * this.layout.bytesPerRow
        ) {
          g.fillStyle = BLOCK_EDGE;
          g.fillRect(x, this.#rowY(piece.row), 1, ROW_HEIGHT);
          g.fillStyle = segment.kind === "used" && this.mode === "age"
            ? ageColour(ages.ageOf(payloadOf(segment)))
            : colourOf(segment);
        }
      }
    }
    this.#outline(g, this.highlight, payloadOf, OUTLINE);
    this.#outline(g, this.binMates, (segment) => segment.start, BIN_OUTLINE);
  }

  /** The segment under a point given in the canvas's CSS pixels, if any. */
  segmentAt(x: number, y: number): Segment | undefined {
    const row = Math.floor(y / (ROW_HEIGHT + ROW_GAP));
    if (x < GUTTER || row < 0 || row >= this.layout.rows || y - this.#rowY(row) > ROW_HEIGHT) {
      return undefined;
    }
    const byte = row * this.layout.bytesPerRow + Math.floor((x - GUTTER) * this.scale);
    if (byte >= this.layout.bytes) return undefined;
    const address = this.layout.base + byte;
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.start <= address) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo];
  }

  /** The centre, in the canvas's CSS pixels, of the first piece of the block starting at `start`. */
  centreOf(start: number, size: number): { x: number; y: number } {
    const piece = piecesOf(this.layout, start, size)[0]!;
    return {
      x: this.#x(piece.x) + piece.width / this.scale / 2,
      y: this.#rowY(piece.row) + ROW_HEIGHT / 2,
    };
  }

  #x(byteInRow: number): number {
    return GUTTER + byteInRow / this.scale;
  }

  #rowY(row: number): number {
    return row * (ROW_HEIGHT + ROW_GAP);
  }

  /** Outlines the blocks and slots whose `key` (payload or start offset) is in `offsets`. */
  #outline(
    g: CanvasRenderingContext2D,
    offsets: number[],
    key: (segment: Segment) => number,
    colour: string,
  ): void {
    g.strokeStyle = colour;
    g.lineWidth = 2;
    const wanted = new Set(offsets);
    for (const segment of this.segments) {
      if (segment.kind === "meta" || segment.kind === "run" || !wanted.has(key(segment))) continue;
      for (const piece of piecesOf(this.layout, segment.start, segment.size)) {
        const w = Math.max(piece.width / this.scale, 2);
        g.strokeRect(this.#x(piece.x) + 1, this.#rowY(piece.row) + 1, w - 2, ROW_HEIGHT - 2);
      }
    }
  }

  /** Each used block's age, 0 for the newest and 1 for the oldest. */
  #ageSpan(): { ageOf: (payload: number) => number } {
    let oldest = this.session.ops;
    for (const block of this.session.liveBlocks()) oldest = Math.min(oldest, block.born);
    const span = Math.max(1, this.session.ops - oldest);
    return {
      ageOf: (payload) => {
        const born = this.session.block(payload)?.born ?? oldest;
        return (this.session.ops - born) / span;
      },
    };
  }
}
