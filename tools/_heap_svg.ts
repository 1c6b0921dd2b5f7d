// Pictures of a trace's heap as SVG, for `deno task replay -- --svg <dir>`:
// the heap over time (address against operation, live blocks and slots
// coloured by size class, the peak marked) and the pool at its peak, drawn as the
// playground draws it. Both stay small for traces of millions of
// operations: the first is a raster of cells run-length coded into one path
// per colour; the second merges neighbouring blocks narrower than a pixel.

import { Pool } from "../mod.ts";
import type { Trace } from "../trace.ts";
import { Flag } from "../src/engine/tlsf.ts";
import { RunField } from "../src/engine/runs.ts";
import {
  colourOf,
  COLOURS,
  piecesOf,
  type RowLayout,
  rowLayout,
  SIZE_CLASSES,
  sizeClassOf,
} from "./playground/heap_layout.ts";
import { PoolView, type Segment } from "./playground/pool_view.ts";
import { TraceStepper } from "./playground/trace_stepper.ts";

/** The two pictures of one trace. */
export interface HeapPictures {
  overTime: string;
  atPeak: string;
  /** Operations run when bytesUsed first reached its peak. */
  peakOperation: number;
  peakBytesUsed: number;
}

/** Sizes of the pictures, in pixels and cells. */
const WIDTH = 1200;
const MARGIN = { left: 90, right: 20, top: 56, bottom: 70 };
const PLOT_HEIGHT = 520;
/** The over-time raster: columns of operations, cells of addresses. */
const COLUMNS = 600;
const CELLS = 300;
/** The peak map: rows of the pool, and pixels per row. */
const MAP_ROWS = 48;
const MAP_ROW_HEIGHT = 12;
const MAP_ROW_FILL = 0.82;
/** Rectangles narrower than this many pixels get no edge line, which would hide them. */
const EDGED_PIXELS = 4;
/** Neighbouring blocks narrower than this many pixels are drawn as one rectangle. */
const MERGE_PIXELS = 3;
/** About the most rectangles a peak map has, which keeps it to a few hundred kilobytes. */
const MAX_RECTS = 4000;
const FREE_CATEGORY = SIZE_CLASSES.length;
const SLOT_FREE_CATEGORY = FREE_CATEGORY + 1;
const META_CATEGORY = SLOT_FREE_CATEGORY + 1;
const CATEGORIES = META_CATEGORY + 1;
const TICKS = 6;
const FONT = `font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"`;
const PEAK = "#dc2626";
const KIB = 1024;

/** Bytes as people read them. */
function bytes(n: number): string {
  if (n >= KIB * KIB) return `${+(n / KIB / KIB).toFixed(1)} MiB`;
  if (n >= KIB) return `${+(n / KIB).toFixed(1)} KiB`;
  return `${n} B`;
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");

/** Text with `<`, `>`, `&` and quotes escaped. */
function escape(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function categoryColour(category: number): string {
  if (category === FREE_CATEGORY) return COLOURS.free;
  if (category === SLOT_FREE_CATEGORY) return COLOURS.slotFree;
  if (category === META_CATEGORY) return COLOURS.meta;
  return SIZE_CLASSES[category]!.colour;
}

/** Both pictures of `trace` replayed into a pool of `poolSize` bytes (one it fits in). */
export function heapPictures(trace: Trace, poolSize: number): HeapPictures {
  const pool = new Pool(new ArrayBuffer(poolSize));
  const stepper = new TraceStepper(trace, pool);
  const view = new PoolView(pool);
  const columns = Math.max(1, Math.min(COLUMNS, trace.length));
  const raster = new Uint8Array(columns * CELLS).fill(CATEGORIES);
  const tally = new Float64Array(CELLS * CATEGORIES);
  let peak = 0;
  let peakOperation = 0;
  for (let column = 0; column < columns; column++) {
    const until = Math.round(((column + 1) * trace.length) / columns);
    while (stepper.position < until && !stepper.done) {
      stepper.step();
      const used = pool.bytesUsed();
      if (used > peak) {
        peak = used;
        peakOperation = stepper.position;
      }
    }
    if (stepper.failed) throw new RangeError(`${trace.name} does not fit in ${poolSize} bytes.`);
    tallyColumn(view, poolSize, tally);
    for (let cell = 0; cell < CELLS; cell++) {
      let best = CATEGORIES;
      let most = 0;
      for (let c = 0; c < CATEGORIES; c++) {
        const n = tally[cell * CATEGORIES + c]!;
        if (n > most) [best, most] = [c, n];
      }
      raster[column * CELLS + cell] = best;
    }
  }
  const atPeak = new Pool(new ArrayBuffer(poolSize));
  const again = new TraceStepper(trace, atPeak);
  while (again.position < peakOperation) again.step();
  return {
    overTime: overTimeSvg(trace, poolSize, raster, columns, peakOperation, peak),
    atPeak: peakMapSvg(trace, atPeak, peakOperation),
    peakOperation,
    peakBytesUsed: peak,
  };
}

/**
 * Bytes of each category (size classes, free, free slots, metadata) in each
 * cell of addresses; the top block counts as nothing, so untouched space
 * stays blank. A run counts slot by slot, its header and tail as metadata.
 */
function tallyColumn(view: PoolView, poolSize: number, tally: Float64Array): void {
  tally.fill(0);
  // Whole numbers throughout: a cell's bounds from a float width could stall on rounding.
  const add = (start: number, size: number, category: number) => {
    const end = start + size;
    for (let at = start; at < end;) {
      const cell = Math.floor((at * CELLS) / poolSize);
      const next = Math.min(end, Math.ceil(((cell + 1) * poolSize) / CELLS));
      tally[cell * CATEGORIES + category]! += next - at;
      at = next;
    }
  };
  const { u32, base } = view;
  const first = view.first - base;
  const end = view.end - base;
  const top = view.top - base;
  add(0, first, META_CATEGORY);
  for (let b = first; b < top;) {
    const header = u32[b >>> 2]!;
    const size = (header & ~Flag.Mask) >>> 0;
    const run = (header & Flag.Free) === 0 ? view.runAt(base + b) : undefined;
    if (run === undefined) {
      add(b, size, (header & Flag.Free) !== 0 ? FREE_CATEGORY : sizeClassOf(size));
    } else {
      const slots = b + RunField.Header;
      add(b, RunField.Header, META_CATEGORY);
      for (let i = 0; i < run.count; i++) {
        const free = ((run.free >>> i) & 1) !== 0;
        add(
          slots + i * run.slotSize,
          run.slotSize,
          free ? SLOT_FREE_CATEGORY : sizeClassOf(run.slotSize),
        );
      }
      const tail = slots + run.count * run.slotSize;
      add(tail, b + size - tail, META_CATEGORY);
    }
    b += size;
  }
  // A large block taken from the top block's far end leaves the top block empty (top = end).
  add(end, poolSize - end, META_CATEGORY);
}

function legend(x: number, y: number, extra: [string, string][]): string {
  const items: [string, string][] = [
    ...SIZE_CLASSES.map((c): [string, string] => [c.colour, c.label]),
    ...extra,
  ];
  let at = x;
  return items.map(([colour, label]) => {
    const item = `<rect x="${at}" y="${y - 10}" width="12" height="12" rx="2" fill="${colour}" ` +
      `stroke="#94a3b8" stroke-width="0.5"/><text x="${at + 16}" y="${y}">${escape(label)}</text>`;
    at += 22 + label.length * 7;
    return item;
  }).join("");
}

function overTimeSvg(
  trace: Trace,
  poolSize: number,
  raster: Uint8Array,
  columns: number,
  peakOperation: number,
  peak: number,
): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const height = MARGIN.top + PLOT_HEIGHT + MARGIN.bottom;
  // One path per colour: each run of a cell row across columns is one rectangle.
  const paths = Array.from({ length: CATEGORIES }, () => [] as string[]);
  for (let cell = 0; cell < CELLS; cell++) {
    for (let column = 0; column < columns;) {
      const category = raster[column * CELLS + cell]!;
      let run = 1;
      while (column + run < columns && raster[(column + run) * CELLS + cell] === category) run++;
      if (category < CATEGORIES) paths[category]!.push(`M${column} ${cell}h${run}v1h-${run}z`);
      column += run;
    }
  }
  const xOf = (operation: number) => MARGIN.left + (operation / trace.length) * plotWidth;
  const yOf = (address: number) => MARGIN.top + (address / poolSize) * PLOT_HEIGHT;
  const ticks: string[] = [];
  for (let i = 0; i <= TICKS; i++) {
    const operation = (trace.length * i) / TICKS;
    const address = (poolSize * i) / TICKS;
    const anchor = i === 0 ? "start" : i === TICKS ? "end" : "middle";
    ticks.push(
      `<text x="${xOf(operation).toFixed(1)}" y="${MARGIN.top + PLOT_HEIGHT + 18}" ` +
        `text-anchor="${anchor}">${count(operation)}</text>`,
      `<text x="${MARGIN.left - 8}" y="${(yOf(address) + 4).toFixed(1)}" ` +
        `text-anchor="end">${bytes(Math.round(address))}</text>`,
    );
  }
  const px = xOf(peakOperation).toFixed(1);
  // The peak's label sits on the side of its line that has room for it.
  const anchor = peakOperation > trace.length / 2 ? "end" : "start";
  const title = `${trace.name}: the heap over time`;
  return [
    ...svgOpening(height, title),
    `<text x="${MARGIN.left}" y="40">${escape(trace.description.slice(0, 150))}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${PLOT_HEIGHT}" ` +
    `fill="${COLOURS.top}"/>`,
    `<svg x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${PLOT_HEIGHT}" ` +
    `viewBox="0 0 ${columns} ${CELLS}" preserveAspectRatio="none" shape-rendering="crispEdges">`,
    ...paths.map((d, category) =>
      d.length === 0 ? "" : `<path fill="${categoryColour(category)}" d="${d.join("")}"/>`
    ),
    `</svg>`,
    `<line x1="${px}" x2="${px}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_HEIGHT}" ` +
    `stroke="${PEAK}" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    `<text x="${px}" y="${
      MARGIN.top - 4
    }" fill="${PEAK}" text-anchor="${anchor}" font-weight="600">` +
    `peak: ${bytes(peak)} used at operation ${count(peakOperation)}</text>`,
    ...ticks,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + PLOT_HEIGHT + 36}" ` +
    `text-anchor="middle">operation (${count(trace.length)} in all)</text>`,
    `<text transform="translate(18 ${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)" ` +
    `text-anchor="middle">address in a pool of ${bytes(poolSize)}</text>`,
    mapLegend(height),
    `</svg>`,
  ].join("\n") + "\n";
}

/**
 * The rectangles of the peak map, in address order: one per block and row,
 * except that neighbours in a row each narrower than `minWidth` bytes are
 * merged into one, coloured as the most bytes among them are.
 */
export function mapRects(
  segments: Segment[],
  layout: RowLayout,
  minWidth: number,
): { row: number; x: number; width: number; fill: string; blocks: number }[] {
  const rects: { row: number; x: number; width: number; fill: string; blocks: number }[] = [];
  let group:
    | { row: number; x: number; width: number; blocks: number; weights: Map<string, number> }
    | null = null;
  const flush = () => {
    if (group === null) return;
    let fill = "";
    let most = -1;
    for (const [colour, weight] of group.weights) {
      if (weight > most) [fill, most] = [colour, weight];
    }
    rects.push({ row: group.row, x: group.x, width: group.width, fill, blocks: group.blocks });
    group = null;
  };
  for (const segment of segments) {
    const fill = colourOf(segment);
    for (const piece of piecesOf(layout, segment.start, segment.size)) {
      if (piece.width >= minWidth) {
        flush();
        rects.push({ ...piece, fill, blocks: 1 });
        continue;
      }
      if (group !== null && (group.row !== piece.row || group.width >= minWidth)) flush();
      if (group === null) group = { ...piece, blocks: 0, weights: new Map() };
      else group.width += piece.width;
      group.blocks++;
      group.weights.set(fill, (group.weights.get(fill) ?? 0) + piece.width);
    }
  }
  flush();
  return rects;
}

/**
 * A white line, one pixel wide, where each rectangle wide enough to spare it
 * starts, as the playground marks block edges: a filled path, since a stroke
 * would scale with the map's stretched coordinates.
 */
function edges(rects: { row: number; x: number; width: number }[], pixel: number): string {
  const d = rects
    .filter((r) => r.x > 0 && r.width >= EDGED_PIXELS * pixel)
    .map((r) => `M${r.x} ${r.row}h${+pixel.toFixed(2)}v${MAP_ROW_FILL}h-${+pixel.toFixed(2)}z`);
  return d.length === 0 ? "" : `<path fill="#ffffff" d="${d.join("")}"/>`;
}

function peakMapSvg(trace: Trace, pool: Pool, peakOperation: number): string {
  const view = new PoolView(pool);
  const segments = view.segments();
  const layout = rowLayout(pool.byteOffset, pool.byteLength, MAP_ROWS);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const pixel = layout.bytesPerRow / plotWidth;
  const rects = mapRects(
    segments,
    layout,
    Math.max(MERGE_PIXELS * pixel, layout.bytes / MAX_RECTS),
  );
  const plotHeight = layout.rows * MAP_ROW_HEIGHT;
  const height = MARGIN.top + plotHeight + MARGIN.bottom - 20;
  const stats = pool.stats();
  const title = `${trace.name}: the pool at its peak, after operation ${count(peakOperation)}`;
  const labels = [];
  for (let row = 0; row < layout.rows; row += 4) {
    labels.push(
      `<text x="${MARGIN.left - 8}" y="${MARGIN.top + row * MAP_ROW_HEIGHT + 9}" ` +
        `text-anchor="end">${bytes(row * layout.bytesPerRow)}</text>`,
    );
  }
  return [
    ...svgOpening(height, title),
    `<text x="${MARGIN.left}" y="40">${count(stats.bytesUsed)} bytes used in ` +
    `${count(stats.liveBlocks)} blocks, ${count(stats.bytesFree)} free in ` +
    `${count(stats.freeBlocks)} blocks (largest ${count(stats.largestFreeBlock)}); ` +
    `${count(layout.bytesPerRow)} bytes a row</text>`,
    ...labels,
    `<svg x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" ` +
    `viewBox="0 0 ${layout.bytesPerRow} ${layout.rows}" preserveAspectRatio="none" ` +
    `shape-rendering="crispEdges" data-pool-bytes="${layout.bytes}" ` +
    `data-bytes-per-row="${layout.bytesPerRow}">`,
    ...rects.map((r) =>
      `<rect x="${r.x}" y="${r.row}" width="${r.width}" height="${MAP_ROW_FILL}" ` +
      `fill="${r.fill}"/>`
    ),
    edges(rects, pixel),
    `</svg>`,
    mapLegend(height),
    `</svg>`,
  ].join("\n") + "\n";
}

/** Writes `<name>.heap.svg` and `<name>.peak.svg` into `dir`; returns their paths. */
export async function writeHeapSvgs(
  trace: Trace,
  poolSize: number,
  dir: string,
  name: string,
): Promise<string[]> {
  const pictures = heapPictures(trace, poolSize);
  await Deno.mkdir(dir, { recursive: true });
  const paths = [`${dir}/${name}.heap.svg`, `${dir}/${name}.peak.svg`];
  await Deno.writeTextFile(paths[0]!, pictures.overTime);
  await Deno.writeTextFile(paths[1]!, pictures.atPeak);
  return paths;
}

/** An SVG's opening: the root element, its title, a white page and the title written on it. */
function svgOpening(height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12" fill="#334155">`,
    `<title>${escape(title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="16" font-weight="600" fill="#0f172a">` +
    `${escape(title)}</text>`,
  ];
}

/** The legend of the colours that are not size classes, along the picture's foot. */
function mapLegend(height: number): string {
  return legend(MARGIN.left, height - 12, [
    [COLOURS.free, "free (in a bin)"],
    [COLOURS.slotFree, "free slot"],
    [COLOURS.top, "top block"],
    [COLOURS.meta, "metadata"],
  ]);
}
