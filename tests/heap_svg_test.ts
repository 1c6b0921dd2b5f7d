import { withWarmUp } from "../tools/_oracle.ts";
import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { Pool } from "../mod.ts";
import { minimumPoolSize, parseTrace, replayTrace, type Trace } from "../trace.ts";
import { heapPictures, mapRects, writeHeapSvgs } from "../tools/_heap_svg.ts";
import { rowLayout } from "../tools/playground/heap_layout.ts";
import { PoolView, type Segment } from "../tools/playground/pool_view.ts";
import { random } from "../tools/playground/session.ts";

/** A trace of `count` operations keeping about 200 blocks of 8 to 3 000 bytes live, some resized. */
async function churnTrace(count: number, seed: number): Promise<Trace> {
  const next = random(seed);
  const live: number[] = [];
  const spare: number[] = [];
  let ids = 0;
  const lines = ["# a test's churn"];
  for (let i = 0; i < count; i++) {
    const size = 8 + Math.floor(next() * next() * 3000);
    const roll = next();
    if (live.length === 0 || (roll < 0.55 && live.length < 400)) {
      const id = spare.pop() ?? ids++;
      live.push(id);
      lines.push(`a ${id} ${size}`);
    } else {
      const at = Math.floor(next() * live.length);
      const id = live[at]!;
      if (roll < 0.6) {
        lines.push(`r ${id} ${id} ${size}`);
      } else {
        live[at] = live.at(-1)!;
        live.pop();
        spare.push(id);
        lines.push(`f ${id}`);
      }
    }
  }
  return await parseTrace(lines.join("\n") + "\n", { name: "churn" });
}

interface Rect {
  x: number;
  y: number;
  width: number;
}

/** The block rectangles of a peak map, and the geometry the map declares. */
function mapOf(svg: string): { rects: Rect[]; bytes: number; bytesPerRow: number } {
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(svg);
  const maps = [parsed.svg.svg].flat().filter((s: Record<string, unknown>) =>
    "data-pool-bytes" in s
  );
  assert.equal(maps.length, 1);
  const map = maps[0];
  const rects = [map.rect].flat().map((r: Record<string, string>) => ({
    x: Number(r.x),
    y: Number(r.y),
    width: Number(r.width),
  }));
  return {
    rects,
    bytes: Number(map["data-pool-bytes"]),
    bytesPerRow: Number(map["data-bytes-per-row"]),
  };
}

/** Asserts that rectangles tile `bytes` bytes in rows of `bytesPerRow`, in order, without gaps or overlaps. */
function assertTiles(rects: Rect[], bytes: number, bytesPerRow: number): void {
  const sorted = [...rects].sort((a, b) => a.y - b.y || a.x - b.x);
  let at = 0;
  for (const r of sorted) {
    assert.ok(Number.isInteger(r.x) && Number.isInteger(r.width) && r.width > 0);
    assert.ok(r.x + r.width <= bytesPerRow, `a rectangle runs past its row at ${r.y}`);
    assert.equal(r.y * bytesPerRow + r.x, at, `gap or overlap at byte ${at}`);
    at += r.width;
  }
  assert.equal(at, bytes);
  assert.equal(sorted.reduce((sum, r) => sum + r.width, 0), bytes);
}

Deno.test("heap SVGs: valid XML, and the peak map's rectangles tile the pool", async () => {
  const trace = await churnTrace(3000, 7);
  // The pools here get runs at once: the cut trace is too short to warm its classes up.
  withWarmUp(0, () => pictureTest(trace));
});

function pictureTest(trace: Awaited<ReturnType<typeof churnTrace>>): void {
  const { poolSize } = minimumPoolSize(trace);
  const pictures = heapPictures(trace, poolSize);
  assert.equal(XMLValidator.validate(pictures.overTime), true);
  assert.equal(XMLValidator.validate(pictures.atPeak), true);

  // The peak is the replay's highest bytesUsed, reached at the operation marked.
  const pool = Pool.create(poolSize);
  replayTrace(trace, pool);
  assert.equal(pictures.peakBytesUsed, pool.stats().peakBytesUsed);
  const atPeak = Pool.create(poolSize);
  replayTrace(trace, atPeak, { limit: pictures.peakOperation });
  assert.equal(atPeak.bytesUsed(), pictures.peakBytesUsed);
  assert.match(
    pictures.overTime,
    new RegExp(`peak: .* at operation ${pictures.peakOperation.toLocaleString("en-US")}`),
  );

  const map = mapOf(pictures.atPeak);
  assert.equal(map.bytes, poolSize);
  assertTiles(map.rects, map.bytes, map.bytesPerRow);
  // Small enough that no block was merged: a rectangle per block and row crossed. A run's
  // slots, narrower than a few pixels, may merge, but each run (over 512 bytes) keeps one.
  const segments = new PoolView(atPeak).segments();
  const blocks = segments.filter((s) => s.kind !== "run" && s.slot === undefined).length - 2;
  const runs = segments.filter((s) => s.kind === "run" && s.start === s.run).length;
  assert.ok(runs > 0, "the trace's small blocks are slots in runs");
  assert.ok(
    map.rects.length >= blocks + runs + 2,
    `${map.rects.length} rectangles for ${blocks} blocks and ${runs} runs`,
  );
}

Deno.test("heap SVGs: blocks narrower than a pixel merge, and still tile the pool", () => {
  const segments: Segment[] = [{ start: 0, size: 1008, kind: "meta" }];
  for (let start = 1008; start < 100_000; start += 16) {
    segments.push({ start, size: 16, kind: start % 48 === 0 ? "free" : "used" });
  }
  segments.push({ start: 100_000, size: 8, kind: "sentinel" });
  const layout = rowLayout(0, 100_008, 10);
  const rects = mapRects(segments, layout, 100);
  assert.ok(rects.length < segments.length / 4, `${rects.length} rectangles`);
  assertTiles(
    rects.map((r) => ({ x: r.x, y: r.row, width: r.width })),
    layout.bytes,
    layout.bytesPerRow,
  );
  assert.equal(rects.reduce((sum, r) => sum + r.blocks, 0) >= segments.length, true);
});

Deno.test("heap SVGs: written as <name>.heap.svg and <name>.peak.svg in the directory given", async () => {
  const trace = await churnTrace(500, 11);
  const dir = await Deno.makeTempDir();
  try {
    const { poolSize } = minimumPoolSize(trace);
    const paths = await writeHeapSvgs(trace, poolSize, `${dir}/out`, "churn");
    assert.deepEqual(paths, [`${dir}/out/churn.heap.svg`, `${dir}/out/churn.peak.svg`]);
    for (const path of paths) {
      assert.equal(XMLValidator.validate(await Deno.readTextFile(path)), true);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
