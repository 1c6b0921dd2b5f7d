import assert from "node:assert/strict";
import { Pool } from "../mod.ts";
import {
  type AnalysisProgress,
  analyzeTrace,
  type AnalyzeTraceOptions,
  minimumPoolSize,
  parseTrace,
  replayTrace,
} from "../trace.ts";
import { Size } from "../src/engine/tlsf.ts";
import { poolWithRoomFor, wholeSizeFor } from "./_model.ts";
import { random } from "./_random.ts";
import { FIXTURES, readFixture } from "./_traces.ts";

/** A trace of `count` operations with random sizes and lifetimes, the same for the same seed. */
function randomTrace(seed: number, count: number): string {
  const next = random(seed);
  const live: number[] = [];
  let nextId = 0;
  const freeIds: number[] = [];
  const lines = ["# random"];
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (live.length > 0 && roll < 0.4) {
      const id = live.splice(Math.floor(next() * live.length), 1)[0]!;
      lines.push(`f ${id}`);
      freeIds.push(id);
    } else if (live.length > 0 && roll < 0.5) {
      const id = live[Math.floor(next() * live.length)]!;
      lines.push(`r ${id} ${id} ${1 + Math.floor(next() * 2000)}`);
    } else {
      const id = freeIds.pop() ?? nextId++;
      lines.push(`a ${id} ${1 + Math.floor(next() ** 3 * 5000)}`);
      live.push(id);
    }
  }
  return lines.join("\n");
}

Deno.test("analyzeTrace gives the exact figures of a hand-made trace", async (t) => {
  // a 0 100, a 1 100: two blocks of 112 bytes (100 + the 8-byte header, rounded to 8), carved
  // one after the other from the top block. f 0 leaves a 112-byte hole at the front.
  // a 2 200 needs 208 bytes, more than the hole, so it is carved after block 1.
  // Peak live bytes: 100 + 200 = 300, with 2 blocks live at most.
  // Peak bytesUsed: 112 + 208 = 320 (at the end; 224 before the free).
  // Smallest pool: metadata + 112 + 112 + 208. A pool that size has 2 rows of bins, so its
  // metadata is the 80-byte header, 2 bitmap words (8), 2 × 32 bin heads of 4 bytes (256) and
  // the 8-byte sentinel: 352 bytes, and the pool 352 + 432 = 784 bytes.
  // Memory factor 784 / 300 = 2.61333…; overhead 320 / 300 = 1.06666…;
  // external fragmentation 784 / 320 - 1 = 1.45, and 1.06666… × 2.45 = 2.61333….
  const trace = await parseTrace("# hand-made\na 0 100\na 1 100\nf 0\na 2 200\n");
  const analysis = analyzeTrace(trace, { tolerance: 0, timing: false });
  const used = wholeSizeFor(100) + wholeSizeFor(200);
  const pool = poolWithRoomFor(2 * wholeSizeFor(100) + wholeSizeFor(200));

  await t.step("the peaks, the pool and its metadata are as worked out", () => {
    assert.equal(analysis.operations, 4);
    assert.equal(analysis.peakLiveBytes, 300);
    assert.equal(analysis.peakLiveBlocks, 2);
    assert.equal(analysis.peakBytesUsed, used);
    assert.equal(analysis.poolSize, pool);
    assert.equal(analysis.metadataBytes, pool - 2 * wholeSizeFor(100) - wholeSizeFor(200));
    const smaller = new Pool(new ArrayBuffer(pool - Size.Align));
    assert.equal(replayTrace(trace, smaller).failedAt, 3);
  });

  await t.step("the three ratios are the issue's definitions", () => {
    assert.equal(analysis.memoryFactor, pool / 300);
    assert.equal(analysis.overhead, used / 300);
    assert.equal(analysis.externalFragmentation, pool / used - 1);
  });

  await t.step("the memory factor is overhead times one plus external fragmentation", () => {
    const { memoryFactor, overhead, externalFragmentation } = analysis;
    const product = overhead * (1 + externalFragmentation);
    assert.ok(Math.abs(memoryFactor - product) <= 4 * Number.EPSILON * memoryFactor);
  });
});

Deno.test("analyzeTrace agrees with the functions it is built on", async (t) => {
  const text = randomTrace(7, 3000);
  const trace = await parseTrace(text);

  await t.step("its memory figures are minimumPoolSize's, at the tolerance given", () => {
    for (const tolerance of [0, 0.001, 0.05]) {
      const analysis = analyzeTrace(trace, { tolerance, timing: false });
      const sizing = minimumPoolSize(trace, { tolerance });
      assert.equal(analysis.poolSize, sizing.poolSize);
      assert.equal(analysis.peakBytesUsed, sizing.peakBytesUsed);
      assert.equal(analysis.metadataBytes, sizing.metadataBytes);
      assert.equal(analysis.peakLiveBytes, sizing.peakLiveBytes);
      assert.equal(analysis.peakLiveBlocks, sizing.peakLiveBlocks);
      const { memoryFactor, overhead, externalFragmentation } = analysis;
      assert.ok(
        Math.abs(memoryFactor - overhead * (1 + externalFragmentation)) <=
          4 * Number.EPSILON * memoryFactor,
      );
    }
  });

  await t.step("the default tolerance is 0.1%", () => {
    assert.deepEqual(
      analyzeTrace(trace, { timing: false }),
      analyzeTrace(trace, { tolerance: 0.001, timing: false }),
    );
  });

  await t.step("limit analyzes the first operations, as if the trace ended there", async () => {
    const first = 1000;
    const lines = text.split("\n");
    const head = await parseTrace(lines.slice(0, first + 1).join("\n"));
    assert.equal(head.length, first);
    assert.deepEqual(
      analyzeTrace(trace, { limit: first, timing: false }),
      analyzeTrace(head, { timing: false }),
    );
    assert.equal(
      analyzeTrace(trace, { limit: 10 * trace.length, timing: false }).operations,
      trace.length,
    );
  });
});

Deno.test("analyzeTrace on the trace fixtures: their peaks, and overhead within its bound", async (t) => {
  for (const f of FIXTURES) {
    await t.step(f.name, async () => {
      const analysis = analyzeTrace(await readFixture(f), { timing: false });
      assert.equal(analysis.operations, f.operations);
      assert.equal(analysis.peakLiveBytes, f.peakLiveBytes);
      assert.equal(analysis.peakLiveBlocks, f.peakLiveBlocks);
      // A block of n requested bytes is at most n + Size.MinBlock (blockSizeFor: 16 for up to
      // 8 bytes, else n + 8 rounded up to 8), plus the rest of the free block it came from when
      // that rest is too small to be a block: under Size.MinBlock, so at most 8. So at any
      // moment bytesUsed <= live bytes + 24 per live block, and the peaks keep that bound.
      // Every block holds its request and an 8-byte header, and at least one is live at the
      // peak: the lower bound.
      const perBlock = 2 * Size.MinBlock - Size.Align;
      assert.ok(analysis.peakBytesUsed <= f.peakLiveBytes + perBlock * f.peakLiveBlocks);
      assert.ok(analysis.peakBytesUsed >= f.peakLiveBytes + Size.BlockHeader);
      assert.equal(analysis.overhead, analysis.peakBytesUsed / f.peakLiveBytes);
      // The pool holds its metadata besides the blocks, so it is never smaller than both.
      assert.ok(analysis.poolSize >= analysis.metadataBytes + analysis.peakBytesUsed);
      assert.equal(analysis.externalFragmentation, analysis.poolSize / analysis.peakBytesUsed - 1);
    });
  }
});

Deno.test("analyzeTrace times each operation unless told not to", async (t) => {
  const trace = await parseTrace(randomTrace(11, 2000));

  await t.step("the times are present, finite, non-negative and in order", () => {
    const { times } = analyzeTrace(trace);
    const ordered = [times.medianNs, times.p99Ns, times.p999Ns, times.maxNs];
    for (const ns of [...ordered, times.meanNs, times.timerCostNs, times.timerResolutionNs]) {
      assert.ok(Number.isFinite(ns) && ns >= 0, `${ns}`);
    }
    for (let i = 1; i < ordered.length; i++) assert.ok(ordered[i - 1]! <= ordered[i]!);
  });

  await t.step("the timed pool has the headroom asked for, 2x by default", () => {
    const analysis = analyzeTrace(trace);
    assert.equal(analysis.times.poolSize, 2 * analysis.poolSize);
    const roomy = analyzeTrace(trace, { headroom: 3.3 });
    assert.equal(roomy.times.poolSize % Size.Align, 0);
    assert.ok(roomy.times.poolSize > 3.3 * roomy.poolSize - Size.Align);
    assert.ok(roomy.times.poolSize <= 3.3 * roomy.poolSize);
  });

  await t.step("progress reports every sizing trial, then every timing replay", () => {
    const heard: AnalysisProgress[] = [];
    const analysis = analyzeTrace(trace, { onProgress: (p) => heard.push(p) });
    const sizing = heard.filter((p) => p.phase === "sizing");
    const timing = heard.filter((p) => p.phase === "timing");
    assert.equal(heard.indexOf(timing[0]!), sizing.length);
    assert.deepEqual(sizing.map((p) => p.trials), sizing.map((_, i) => i + 1));
    const last = sizing.findLast((p) => p.fits);
    assert.equal(last?.poolSize, analysis.poolSize);
    const of = timing[0]!.of;
    assert.deepEqual(
      timing,
      Array.from({ length: of + 1 }, (_, replays) => ({ phase: "timing", replays, of })),
    );
  });

  await t.step("with timing false there are no times, and no timing progress", () => {
    const heard: AnalysisProgress[] = [];
    const analysis = analyzeTrace(trace, { timing: false, onProgress: (p) => heard.push(p) });
    assert.equal("times" in analysis, false);
    assert.ok(heard.length > 0 && heard.every((p) => p.phase === "sizing"));
  });
});

Deno.test("analyzeTrace rejects options out of range", async () => {
  const trace = await parseTrace("a 0 10\nf 0\n");
  assert.throws(() => analyzeTrace(trace, { headroom: 0.5 }), RangeError);
  assert.throws(() => analyzeTrace(trace, { headroom: Infinity }), RangeError);
  assert.throws(() => analyzeTrace(trace, { tolerance: -1 }), RangeError);
  assert.throws(() => analyzeTrace(trace, { tolerance: Infinity }), RangeError);
  assert.throws(() => analyzeTrace(trace, { limit: 1.5 }), RangeError);
});

Deno.test("analyzeTrace rejects options of the wrong type before any replay", async () => {
  const trace = await parseTrace("a 0 10\nf 0\n");
  const wrong = [
    { limit: "5" },
    { tolerance: "0.1" },
    { headroom: "3" },
    { timing: "no" },
    { timing: 0 },
    { onProgress: 5 },
  ];
  for (const options of wrong) {
    let called = false;
    const spy = () => called = true;
    const given = { onProgress: spy, ...options } as unknown as AnalyzeTraceOptions;
    assert.throws(
      () => analyzeTrace(trace, given),
      (e) => e instanceof TypeError && e.message.includes(Object.keys(options)[0]!),
      JSON.stringify(options),
    );
    // Refused before the sizing search, which would report its trials.
    assert.equal(called, false);
  }
});
