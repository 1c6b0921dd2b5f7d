// The playground's page-free parts, in Deno: what it reads from a pool's
// bytes agrees with the pool, and its demos set up what they say.

import assert from "node:assert/strict";
import { Pool } from "../mod.ts";
import { parseTrace, replayTrace } from "../trace.ts";
import { binAt, PoolView } from "../tools/playground/pool_view.ts";
import { bins, merge, noRoom } from "../tools/playground/scenarios.ts";
import { Session } from "../tools/playground/session.ts";
import { TraceStepper } from "../tools/playground/trace_stepper.ts";
import { Flag, Size } from "../src/engine/tlsf.ts";

const HEADER: number = Size.BlockHeader;

Deno.test("pool view: segments tile the pool, and every free block is in the bin its size names", () => {
  const session = new Session(1 << 16, 3);
  session.churn(80, 3000);
  const view = new PoolView(session.pool);
  const segments = view.segments();
  let at = session.pool.byteOffset;
  for (const segment of segments) {
    assert.equal(segment.start, at);
    at += segment.size;
  }
  assert.equal(at, session.pool.byteOffset + session.pool.byteLength);
  const stats = session.stats();
  assert.equal(segments.filter((s) => s.kind === "used").length, stats.liveBlocks);
  assert.equal(
    segments.filter((s) => s.kind === "meta" || s.kind === "sentinel").reduce(
      (n, s) => n + s.size,
      0,
    ),
    stats.metadataBytes,
  );
  const free = segments.filter((s) => s.kind === "free");
  assert.ok(free.length > 5, `only ${free.length} free blocks`);
  for (const segment of free) {
    const bin = view.binOf(segment.size);
    assert.ok(bin.min <= segment.size && segment.size <= bin.max);
    assert.ok(
      view.binMembers(bin.index).includes(segment.start),
      `${segment.start} not in its bin`,
    );
    const fields = view.fields(segment.start);
    assert.equal(fields.footer, segment.size);
    assert.equal(fields.free, true);
  }
  const listed = view.nonEmptyBins().reduce((n, b) => n + b.count, 0);
  assert.equal(listed, free.length);
  for (const segment of segments.filter((s) => s.kind === "used")) {
    const fields = view.fields(segment.start);
    assert.equal(fields.header & ~Flag.Mask, segment.size);
    assert.equal(fields.free, false);
  }
});

Deno.test("pool view: bins as docs/layout.md tabulates them", () => {
  const view = new PoolView(Pool.create(1 << 20));
  const of = (size: number) => [view.binOf(size).fl, view.binOf(size).sl];
  assert.deepEqual(of(16), [0, 2]);
  assert.deepEqual(of(248), [0, 31]);
  assert.deepEqual(of(256), [1, 0]);
  assert.deepEqual(of(264), [1, 1]);
  assert.deepEqual(of(1000), [2, 30]);
  assert.deepEqual(of(1024), [3, 0]);
  assert.deepEqual([binAt(2, 30).min, binAt(2, 30).max], [992, 1007]);
});

Deno.test("session: its figures and history follow the pool", () => {
  const session = new Session(4096);
  const a = session.allocate(100);
  const b = session.allocate(200, 64);
  assert.equal(b % 64, 0);
  assert.equal(session.resize(a, 50), a);
  session.free(b);
  assert.equal(session.ops, 4);
  assert.equal(session.liveBlocks().length, 1);
  assert.equal(session.block(a)?.requested, 50);
  assert.equal(session.history.op.at(-1), 4);
  assert.equal(session.history.used.at(-1), session.pool.bytesUsed());
  assert.equal(session.allocate(10_000), 0);
  assert.equal(session.last.ok, false);
  session.pool.check();
});

Deno.test("session: fill and fragment leaves free space in holes", () => {
  const session = new Session(1 << 16);
  session.fillAndFragment();
  const stats = session.stats();
  assert.ok(stats.fragmentation > 0.5, `fragmentation ${stats.fragmentation}`);
  assert.equal(session.liveBlocks().length, stats.liveBlocks);
  session.pool.check();
});

Deno.test("demos: allocate(1024) fails with 3 KiB free; a freed block merges with both neighbours", () => {
  const session = new Session(4096);
  noRoom(session);
  assert.equal(session.pool.bytesFree(), 3072);
  assert.ok(session.pool.largestFreeBlock() < 1024);
  assert.equal(session.last.ok, false);

  bins(session);
  const view = new PoolView(session.pool);
  const shared = binAt(2, 30).index;
  assert.equal(view.binMembers(shared).length, 2);

  const { middle } = merge(session);
  const before = new PoolView(session.pool).segments();
  const around = before.findIndex((s) => s.start === middle - HEADER);
  const total = before[around - 1]!.size + before[around]!.size + before[around + 1]!.size;
  assert.equal(before[around - 1]!.kind, "free");
  assert.equal(before[around + 1]!.kind, "free");
  session.free(middle);
  const merged = new PoolView(session.pool).segments().find((s) =>
    s.start === before[around - 1]!.start
  )!;
  assert.deepEqual([merged.kind, merged.size], ["free", total]);
});

Deno.test("trace stepper: step by step, the pool ends as replayTrace leaves it", async () => {
  const text = await Deno.readTextFile(
    new URL("../tools/playground/traces/sqlite-insert.trace", import.meta.url),
  );
  const trace = await parseTrace(text);
  const stepped = Pool.create(1 << 20);
  const stepper = new TraceStepper(trace, stepped);
  while (stepper.step() !== null);
  assert.equal(stepper.failed, false);
  const replayed = Pool.create(1 << 20);
  replayTrace(trace, replayed);
  assert.deepEqual([...stepped.blocks()], [...replayed.blocks()]);
});
