import assert from "node:assert/strict";
import { Pool } from "../mod.ts";
import {
  minimumPoolSize,
  parseTrace,
  type PoolSizeOptions,
  type ReplayOptions,
  replayTrace,
} from "../trace.ts";
import { bisectPoolSize } from "../src/trace/replay.ts";
import { Size } from "../src/engine/tlsf.ts";
import { poolWithRoomFor, wholeSizeFor } from "./_model.ts";
import { FIXTURES, readFixture } from "./_traces.ts";

/** N blocks of `size` bytes allocated, then freed. */
function fillThenEmpty(count: number, size: number): string {
  const lines = ["# fill, then empty"];
  for (let id = 0; id < count; id++) lines.push(`a ${id} ${size}`);
  for (let id = 0; id < count; id++) lines.push(`f ${id}`);
  return lines.join("\n");
}

Deno.test("replayTrace replays a trace through the raw interface", async (t) => {
  const text = "a 0 100\na 1 50 64\nr 0 3 500\nf 1\na 1 20\nr 3 3 40\n";

  await t.step("the pool ends as if the operations had been made by hand", async () => {
    const replayed = Pool.create(8192);
    const result = replayTrace(await parseTrace(text), replayed);
    assert.deepEqual(result, {
      operations: 6,
      failedAt: -1,
      peakLiveBytes: 550,
      peakLiveBlocks: 2,
    });

    const byHand = Pool.create(8192);
    const zero = byHand.allocate(100)!;
    const one = byHand.alloc(50, 64);
    byHand.resize(zero, 500);
    byHand.free(one);
    byHand.alloc(20);
    byHand.resize(zero, 40);
    assert.deepEqual([...replayed.blocks()], [...byHand.blocks()]);
    assert.deepEqual(replayed.stats(), byHand.stats());
    replayed.check();
  });

  await t.step("an aligned allocation gets its alignment", async () => {
    const pool = Pool.create(8192);
    replayTrace(await parseTrace("a 0 8\na 1 8 256\n"), pool);
    const used = [...pool.blocks()].filter((block) => !block.free);
    assert.equal(used[1]!.offset % 256, 0);
  });

  await t.step(
    "an r line with an alignment realigns the block, and later r lines keep it",
    async () => {
      const up = await parseTrace("a 0 8\na 1 8\nr 0 0 100 256\na 2 8\na 3 300\nr 0 0 1000\n");
      const replayed = Pool.create(8192);
      assert.equal(replayTrace(up, replayed).failedAt, -1);
      const byHand = Pool.create(8192);
      let offset = byHand.alloc(8);
      byHand.alloc(8);
      offset = byHand.realloc(offset, 100, 256);
      byHand.alloc(8);
      byHand.alloc(300);
      offset = byHand.realloc(offset, 1000, 256);
      assert.equal(offset % 256, 0);
      assert.deepEqual([...replayed.blocks()], [...byHand.blocks()]);
    },
  );

  await t.step("an r line with alignment 8 drops the alignment its a line gave", async () => {
    const down = await parseTrace("a 0 8\na 1 24 64\na 2 8\nr 1 1 200 8\n");
    const replayed = Pool.create(8192);
    assert.equal(replayTrace(down, replayed).failedAt, -1);
    const byHand = Pool.create(8192);
    byHand.alloc(8);
    const offset = byHand.alloc(24, 64);
    byHand.alloc(8);
    byHand.realloc(offset, 200);
    assert.deepEqual([...replayed.blocks()], [...byHand.blocks()]);
  });

  await t.step("it stops at the first allocation that finds no room", async () => {
    const trace = await parseTrace(fillThenEmpty(100, 100));
    const pool = new Pool(new ArrayBuffer(poolWithRoomFor(10 * wholeSizeFor(100))));
    const result = replayTrace(trace, pool);
    assert.equal(result.failedAt, 10);
    assert.equal(result.operations, 10);
    assert.equal(pool.stats().liveBlocks, 10);
    assert.equal(pool.stats().failedAllocations, 1);
  });

  await t.step("a resize that finds no room is a failure too", async () => {
    const trace = await parseTrace("a 0 100\na 1 100\nr 0 0 100000\nf 1\n");
    assert.equal(replayTrace(trace, Pool.create(4096)).failedAt, 2);
  });

  await t.step("limit replays only the first operations", async () => {
    const trace = await parseTrace(fillThenEmpty(20, 100));
    const pool = Pool.create(8192);
    const result = replayTrace(trace, pool, { limit: 5 });
    assert.deepEqual(result, {
      operations: 5,
      failedAt: -1,
      peakLiveBytes: 500,
      peakLiveBlocks: 5,
    });
    assert.throws(() => replayTrace(trace, pool, { limit: -1 }), RangeError);
  });

  await t.step("options of the wrong type are a TypeError, and nothing is replayed", async () => {
    const trace = await parseTrace(fillThenEmpty(20, 100));
    const pool = Pool.create(8192);
    const wrong = [{ limit: "5" }, { timings: [] }, { timings: new Uint32Array(40) }];
    for (const options of wrong) {
      assert.throws(
        () => replayTrace(trace, pool, options as unknown as ReplayOptions),
        (e) => e instanceof TypeError && e.message.includes(Object.keys(options)[0]!),
      );
    }
    assert.equal(pool.stats().allocations, 0);
  });

  await t.step("timings get one duration per operation", async () => {
    const trace = await parseTrace(text);
    const timings = new Float64Array(trace.length).fill(NaN);
    replayTrace(trace, Pool.create(8192), { timings });
    assert.ok(timings.every((ms) => Number.isFinite(ms) && ms >= 0));
    const short = new Float64Array(trace.length - 1);
    assert.throws(() => replayTrace(trace, Pool.create(8192), { timings: short }), RangeError);
  });
});

Deno.test("minimumPoolSize finds the smallest pool that replays a trace", async (t) => {
  // N blocks carved one after another: the pool needs its metadata plus N whole blocks.
  const cases = [
    { count: 1000, size: 100 },
    { count: 500, size: 5 },
    { count: 300, size: 1000 },
    // 64 KiB of blocks: the pool crosses a power of two, so it has one more row of bins.
    { count: 4096, size: 12 },
  ];

  await t.step("searched to the byte, it is metadata plus every block, exactly", async () => {
    for (const { count, size } of cases) {
      const expected = poolWithRoomFor(count * wholeSizeFor(size));
      const trace = await parseTrace(fillThenEmpty(count, size));
      const found = minimumPoolSize(trace, { tolerance: 0 });
      assert.equal(found.poolSize, expected, `${count} blocks of ${size}`);
      assert.ok(found.failedSize < expected);
      const smaller = new Pool(new ArrayBuffer(expected - Size.Align));
      assert.equal(replayTrace(trace, smaller).failedAt, count - 1);
      assert.equal(found.peakBytesUsed, count * wholeSizeFor(size));
      assert.equal(found.metadataBytes, expected - count * wholeSizeFor(size));
      assert.equal(found.peakLiveBytes, count * size);
      assert.equal(found.peakLiveBlocks, count);
    }
  });

  await t.step("with the default tolerance it is within 0.1% above the answer", async () => {
    for (const { count, size } of cases) {
      const expected = poolWithRoomFor(count * wholeSizeFor(size));
      const found = minimumPoolSize(await parseTrace(fillThenEmpty(count, size)));
      assert.ok(
        found.poolSize >= expected && found.poolSize <= expected * 1.001,
        `${count}×${size}`,
      );
      assert.ok(found.failedSize < expected);
    }
  });

  await t.step("an empty trace needs the smallest pool there is", async () => {
    const found = minimumPoolSize(await parseTrace("# nothing\n"));
    assert.equal(found.poolSize, found.metadataBytes + Size.MinBlock);
    assert.equal(found.trials, 1);
  });

  await t.step("onTrial sees every replay, and the last fitting size is the answer", async () => {
    const trials: [number, boolean][] = [];
    const found = minimumPoolSize(await parseTrace(fillThenEmpty(100, 40)), {
      onTrial: (poolSize, fits) => trials.push([poolSize, fits]),
    });
    assert.equal(trials.length, found.trials);
    const fitting = trials.filter(([, fits]) => fits).map(([size]) => size);
    assert.equal(Math.min(...fitting), found.poolSize);
  });
});

Deno.test("minimumPoolSize refuses options of the wrong type or range before any replay", async () => {
  const trace = await parseTrace("a 0 10\nf 0\n");
  const wrong: [object, ErrorConstructor][] = [
    [{ limit: "5" }, TypeError],
    [{ tolerance: "0.1" }, TypeError],
    [{ onTrial: 5 }, TypeError],
    [{ tolerance: -1 }, RangeError],
    [{ tolerance: Infinity }, RangeError],
  ];
  for (const [options, kind] of wrong) {
    let trials = 0;
    const given = { onTrial: () => trials++, ...options } as unknown as PoolSizeOptions;
    assert.throws(
      () => minimumPoolSize(trace, given),
      (e) => e instanceof kind && e.message.includes(Object.keys(options)[0]!),
      JSON.stringify(options),
    );
    assert.equal(trials, 0);
  }
});

Deno.test("bisectPoolSize finds a threshold to within its tolerance", async (t) => {
  const thresholds = [8, 1000, 123_456, 50_000_000];

  await t.step("growing from a lower bound", () => {
    for (const threshold of thresholds) {
      for (const tolerance of [0, 0.005, 0.1]) {
        const found = bisectPoolSize(8, (size) => size >= threshold, { tolerance });
        assert.ok(found.poolSize >= threshold && found.poolSize <= threshold * (1 + tolerance) + 8);
        assert.ok(found.failedSize < threshold);
      }
    }
  });

  await t.step("stepping down from an upper bound, near or far", () => {
    for (const threshold of thresholds) {
      for (const upperBound of [threshold, threshold + 64, threshold * 3]) {
        const tried: number[] = [];
        const found = bisectPoolSize(8, (size) => {
          tried.push(size);
          return size >= threshold;
        }, { upperBound });
        assert.ok(found.poolSize >= threshold && found.poolSize <= threshold * 1.005 + 8);
        assert.ok(found.failedSize < threshold);
        assert.equal(tried.findLast((size) => size >= threshold), found.poolSize);
      }
    }
  });

  await t.step("an upper bound that does not fit is ignored", () => {
    const found = bisectPoolSize(8, (size) => size >= 5000, { upperBound: 4000 });
    assert.ok(found.poolSize >= 5000 && found.poolSize <= 5000 * 1.005 + 8);
  });
});

Deno.test("every trace fixture replays to the end with the peaks its text gives", async (t) => {
  for (const f of FIXTURES) {
    await t.step(f.name, async () => {
      const trace = await readFixture(f);
      assert.equal(trace.length, f.operations);
      // 32 MiB: four times the largest peak of live bytes among the fixtures (8.2 MB).
      const roomy = Pool.create(1 << 25);
      const result = replayTrace(trace, roomy);
      assert.deepEqual(result, {
        operations: f.operations,
        failedAt: -1,
        peakLiveBytes: f.peakLiveBytes,
        peakLiveBlocks: f.peakLiveBlocks,
      });
      assert.equal(roomy.stats().liveBlocks, f.liveAtEnd);
      roomy.check();

      const found = minimumPoolSize(trace);
      assert.equal(found.peakLiveBytes, f.peakLiveBytes);
      assert.equal(found.peakLiveBlocks, f.peakLiveBlocks);
      assert.equal(replayTrace(trace, new Pool(new ArrayBuffer(found.poolSize))).failedAt, -1);
      const short = replayTrace(trace, new Pool(new ArrayBuffer(found.failedSize)));
      assert.notEqual(short.failedAt, -1);
      // The pool holds its metadata and, at one moment, every byte of the peak in blocks.
      assert.ok(found.poolSize >= found.metadataBytes + found.peakBytesUsed);
    });
  }
});
