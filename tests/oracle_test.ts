import assert from "node:assert/strict";
import { Pool, type PoolStats } from "../mod.ts";
import { firstBlockOffset, rowsFor, Size } from "../src/engine/tlsf.ts";
import { runsMetadata } from "../src/engine/runs.ts";
import { expectedLayout, Oracle, OracleError, withWarmUp } from "../tools/_oracle.ts";
import {
  alignAboveSlot,
  describeOp,
  eitherTier,
  nearClassBoundary,
  nearSlotBoundary,
  type Op,
  OpGenerator,
  type OpMix,
  Rng,
  RUNS_MIN_POOL,
} from "../tools/_random_ops.ts";

const MIX: OpMix = {
  weights: { allocate: 3, alloc: 3, deallocate: 2, free: 2, resize: 1, realloc: 1, sizeOf: 1 },
  sizes: [[(rng) => rng.between(0, 300), 3], [nearClassBoundary, 1]],
  aligns: [[() => undefined, 3], [() => 64, 1]],
  zeroShare: 0.2,
  askLargestShare: 1,
};

/** Runs `steps` operations of MIX on `pool`, verifying after each; returns the model. */
function drive(pool: Pool, seed: number, steps: number, mix = MIX): Oracle {
  const rng = new Rng(seed);
  const generator = new OpGenerator(rng, mix);
  const model = new Oracle(pool, { rng });
  for (let step = 0; step < steps; step++) {
    model.step = step;
    model.apply(generator.next(model.state()));
    model.verify();
  }
  return model;
}

function assertOracleError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof OracleError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("the model's layout arithmetic agrees with the engine's for every pool size", () => {
  const sizes = [];
  for (let n = 240; n < 70_000; n += 8) sizes.push(n);
  for (let n = 120_000; n < 140_000; n += 8) sizes.push(n);
  for (let p = 17; p <= 32; p++) sizes.push(2 ** p - 8, 2 ** p, 2 ** p + 8);
  for (const n of sizes.filter((n) => n <= 2 ** 32)) {
    const engine = firstBlockOffset(rowsFor(n), runsMetadata(n - Size.Sentinel)) + Size.Sentinel;
    assert.equal(expectedLayout(n).metadataBytes, engine, `${n}-byte pool`);
  }
  // Figures from docs/layout.md, by hand: one row below 256-byte blocks, rows grow with log2;
  // from 128 KiB on, the runs tier's 67 words and a map byte per 512 bytes follow the bin heads.
  assert.deepEqual(expectedLayout(400), { first: 216, metadataBytes: 224, map: 0, mapBytes: 0 });
  assert.equal(expectedLayout(65536).metadataBytes, 80 + 9 * 132 + 4 + 8);
  assert.equal(expectedLayout(131064).metadataBytes, 80 + 10 * 132 + 8);
  // 131072 - 8 bytes before the sentinel take 256 map bytes, the last one for a part-chunk.
  // The blocks start on a multiple of 8: 4 bytes of padding.
  assert.deepEqual(expectedLayout(131072), {
    first: 80 + 10 * 132 + 67 * 4 + 256 + 4,
    metadataBytes: 80 + 10 * 132 + 67 * 4 + 256 + 4 + 8,
    map: 80 + 10 * 132 + 67 * 4,
    mapBytes: 256,
  });
});

Deno.test("the same seed draws the same operations", () => {
  const ops = (seed: number) => {
    const model = drive(Pool.create(16 * 1024), seed, 0);
    const generator = new OpGenerator(new Rng(seed), MIX);
    return Array.from({ length: 50 }, () => describeOp(generator.next(model.state())));
  };
  assert.deepEqual(ops(5), ops(5));
  assert.notDeepEqual(ops(5), ops(6));
});

Deno.test("a target live-set size keeps the pool near it", () => {
  const model = drive(Pool.create(64 * 1024), 3, 400, { ...MIX, targetLive: 20 });
  assert.ok(model.liveBlocks >= 19 && model.liveBlocks <= 21, `${model.liveBlocks} live`);
  assert.ok(model.frees > 100, `${model.frees} frees`);
});

Deno.test("sizes near a class boundary are within 8 bytes of one", () => {
  const rng = new Rng(9);
  for (let i = 0; i < 1000; i++) {
    const block = nearClassBoundary(rng, 1 << 20) + 8;
    // A boundary is a multiple of 8 below 256, else 2^k · (32 + j) / 32.
    const k = Math.max(3, 31 - Math.clz32(block) - 5);
    const granule = block < 256 + 8 ? 8 : 2 ** k;
    const off = Math.min(block % granule, granule - (block % granule));
    assert.ok(off <= 8, `${block} is ${off} bytes from a boundary`);
  }
});

Deno.test("a pool agrees with the model; a fresh pool's model starts empty", () => {
  const model = drive(Pool.create(32 * 1024), 11, 300);
  assert.ok(model.allocations > 50, `${model.allocations} allocations`);
  model.freeAll(new Rng(1), undefined);
  model.verify();
  assert.equal(model.pool.bytesUsed(), 0);
});

/** A pool whose stats() lies in a way that keeps bytesUsed + bytesFree + metadataBytes right. */
class MetadataLiar extends Pool {
  override stats(): PoolStats {
    const stats = super.stats();
    return { ...stats, metadataBytes: stats.metadataBytes + 8, bytesFree: stats.bytesFree - 8 };
  }
}

/** A pool whose largestFreeBlock() is 8 bytes short. */
class ShortLargest extends Pool {
  override largestFreeBlock(): number {
    return Math.max(0, super.largestFreeBlock() - 8);
  }
}

/** A pool that reports its largest free block truly but will not hand all of it out. */
class TimidPool extends Pool {
  override alloc(size: number, align?: number): number {
    return size > super.largestFreeBlock() - 8 ? 0 : super.alloc(size, align);
  }
}

/** A pool whose sizeOf() says 8 bytes more than the block holds. */
class LongSizeOf extends Pool {
  override sizeOf(offset: number): number {
    return super.sizeOf(offset) + 8;
  }
}

Deno.test("the model catches a pool that misreports", async (t) => {
  await t.step("metadataBytes off, though the sum of the figures is right", () => {
    const model = new Oracle(new MetadataLiar(new ArrayBuffer(8192)));
    assertOracleError(() => model.verify(), /stats\(\): metadataBytes 888, expected 880;/);
  });

  await t.step("largestFreeBlock() short of what allocate can get", () => {
    const model = new Oracle(new ShortLargest(new ArrayBuffer(8192)));
    assertOracleError(() => model.verify(), /stats\(\): largestFreeBlock 7296, expected 7304/);
  });

  await t.step("an allocation of largestFreeBlock() that fails", () => {
    const model = new Oracle(new TimidPool(new ArrayBuffer(8192)));
    assertOracleError(() => model.verify(), /alloc\(largestFreeBlock\(\) = 7304\) failed/);
  });

  await t.step("a capacity that runs past the block", () => {
    const model = new Oracle(new LongSizeOf(new ArrayBuffer(8192)));
    const op: Op = { kind: "alloc", size: 24, align: undefined, askLargest: false };
    model.apply(op);
    assertOracleError(
      () => model.verify(),
      /the pool's used blocks are \d+:32, the model's \d+:40/,
    );
  });

  await t.step("a block whose contents changed", () => {
    const model = drive(Pool.create(8192), 2, 20);
    const e = model.entries.find((entry) => entry.length > 0)!;
    const bytes = new Uint8Array(model.pool.buffer);
    bytes[e.offset] = bytes[e.offset]! ^ 1;
    assertOracleError(() => model.verify(), /contents-changed: .*byte 0 of the payload/);
  });
});

Deno.test("a pool with runs agrees with the model, slot by slot", async (t) => {
  const mix: OpMix = {
    ...MIX,
    sizes: [[nearSlotBoundary, 3], [eitherTier, 2], [(rng) => rng.between(0, 4096), 1]],
    resizeSizes: [[eitherTier, 1]],
    aligns: [[() => undefined, 4], [alignAboveSlot, 1]],
  };

  await t.step("the model finds each slot where blocks() puts one", () => {
    const model = drive(withWarmUp(0, () => Pool.create(RUNS_MIN_POOL)), 4, 300, mix);
    assert.ok(model.pool.stats().runs > 0, "the pool has runs");
    let slots = 0;
    for (const info of model.pool.blocks()) {
      const slot = info.blockStart === info.offset ? info.blockSize : 0;
      assert.equal(model.slotAt(info.offset), slot, `the block at ${info.offset}`);
      if (slot > 0) slots++;
    }
    assert.ok(slots > 100, `${slots} slots`);
  });

  await t.step("freed, it is one free block again once all of it is allocated and freed", () => {
    const model = drive(withWarmUp(0, () => Pool.create(2 * RUNS_MIN_POOL)), 5, 400, mix);
    model.freeAll(new Rng(2));
    model.verify();
    const stats = model.pool.stats();
    assert.deepEqual([stats.freeBlocks, stats.runs, stats.bytesUsed], [1, 0, 0]);
  });

  await t.step("a pool just too small for runs has none", () => {
    const model = drive(withWarmUp(0, () => Pool.create(RUNS_MIN_POOL - 8)), 6, 200, mix);
    assert.equal(model.pool.stats().runs, 0);
    assert.equal(model.layout.map, 0);
  });
});

/** A pool whose stats() counts one run too many. */
class RunsLiar extends Pool {
  override stats(): PoolStats {
    const stats = super.stats();
    return { ...stats, runs: stats.runs + 1 };
  }
}

Deno.test("the model catches a pool with runs that misreports them", () => {
  const model = new Oracle(withWarmUp(0, () => new RunsLiar(new ArrayBuffer(RUNS_MIN_POOL))));
  model.apply({ kind: "alloc", size: 24, align: undefined, askLargest: false });
  assertOracleError(() => model.verify(), /stats\(\): runs 2, expected 1/);
});
