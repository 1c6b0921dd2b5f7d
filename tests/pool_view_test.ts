// PoolView, which the playground and the SVGs draw from, reads a pool with runs as the library
// reports it: its segments tile the pool, with each slot where blocks() puts it, and a run's
// fields are the header's.
import { withWarmUp } from "../tools/_oracle.ts";
import assert from "node:assert/strict";
import { Pool } from "../mod.ts";
import { payloadOf, PoolView } from "../tools/playground/pool_view.ts";
import { RunField, RunMap, slotSize } from "../src/engine/runs.ts";

/** Request sizes that fill a few runs of several classes, and one TLSF block. */
const SIZES = [1, 16, 24, 100, 100, 250, 256, 1000];
const COPIES = 40;

Deno.test("PoolView reads runs: segments tile the pool, slots where blocks() has them", () => {
  const pool = withWarmUp(0, () => Pool.create(RunMap.MinPool));
  const live: number[] = [];
  for (let i = 0; i < COPIES; i++) for (const size of SIZES) live.push(pool.alloc(size));
  // Free every third one, so that runs hold free and live slots side by side.
  live.filter((_, i) => i % 3 === 0).forEach((offset) => pool.free(offset));
  const view = new PoolView(pool);
  const segments = view.segments();

  let at = pool.byteOffset;
  for (const segment of segments) {
    assert.equal(segment.start, at, `a gap or an overlap at ${at}`);
    at += segment.size;
  }
  assert.equal(at, pool.byteOffset + pool.byteLength);

  const blocks = [...pool.blocks()];
  const drawn = segments.filter((s) => s.kind === "used" || s.kind === "free" || s.kind === "top");
  assert.deepEqual(
    drawn.map((s) => [payloadOf(s), s.size, s.kind !== "used"]),
    blocks.map((b) => [b.offset, b.blockSize, b.free]),
  );
  const runs = segments.filter((s) => s.kind === "run" && s.start === s.run);
  assert.equal(runs.length, pool.stats().runs);
  // The fixed metadata is what stats() counts as metadata; run headers and tails (no run is
  // empty here) count as used, with the live slots and blocks.
  const sum = (kinds: string[]) =>
    segments.filter((s) => kinds.includes(s.kind)).reduce((total, s) => total + s.size, 0);
  assert.equal(sum(["meta", "sentinel"]), pool.stats().metadataBytes);
  assert.equal(sum(["run", "used"]), pool.bytesUsed(), "no run is empty here");

  for (const header of runs) {
    const run = view.runAt(header.start)!;
    const slots = segments.filter((s) => s.slot !== undefined && s.run === run.start);
    assert.equal(slots.length, run.count);
    assert.equal(run.slotSize, slotSize(run.k));
    slots.forEach((slot, i) => {
      assert.equal(slot.slot, i);
      assert.equal(slot.start, run.start + RunField.Header + i * run.slotSize);
      assert.equal(slot.kind === "free", ((run.free >>> i) & 1) === 1);
    });
  }
  // A slot's start, or a TLSF block's, is no run's.
  assert.equal(view.runAt(runs[0]!.start + RunField.Header), undefined);
  assert.equal(view.runAt(blocks.find((b) => b.offset !== b.blockStart)!.blockStart), undefined);
});

Deno.test("PoolView finds no runs in a pool below RunMap.MinPool", () => {
  const pool = Pool.create(RunMap.MinPool / 2);
  pool.alloc(16);
  const view = new PoolView(pool);
  assert.equal(view.mapEnd, 0);
  assert.ok(view.segments().every((s) => s.kind !== "run" && s.slot === undefined));
});
