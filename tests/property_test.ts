import assert from "node:assert/strict";
import fc from "fast-check";
import { Pool } from "../mod.ts";
import { Size } from "../src/engine/tlsf.ts";
import { walk } from "./_model.ts";
import { Oracle, withWarmUp } from "../tools/_oracle.ts";
import { Slot } from "../src/engine/runs.ts";
import {
  alignAboveSlot,
  eitherTier,
  nearClassBoundary,
  nearSlotBoundary,
  OpGenerator,
  type OpMix,
  Rng,
  RUNS_MIN_POOL,
} from "../tools/_random_ops.ts";

// fast-check draws the pool and a list of seeds; each seed draws one
// operation from the shared generator, for the state the model is in, and
// the shared model carries it out and judges it. Shrinking drops operations
// and lowers seeds; as every operation names its block by a number taken
// modulo the live blocks, what remains still runs.
const MIX: OpMix = {
  weights: {
    allocate: 4,
    allocateLargest: 1,
    deallocate: 3,
    resize: 2,
    alloc: 2,
    free: 2,
    realloc: 1,
    sizeOf: 1,
  },
  // Mostly small blocks, some large enough to run a small pool out of memory; sizes at every
  // slot class boundary and the tier boundary; resizes that cross it either way.
  sizes: [
    [(rng) => rng.between(0, 64), 4],
    [(rng) => rng.between(0, 1024), 3],
    [(rng) => rng.between(0, 16384), 1],
    [nearClassBoundary, 2],
    [nearSlotBoundary, 3],
  ],
  resizeSizes: [
    [eitherTier, 4],
    [nearSlotBoundary, 2],
    [(rng) => rng.between(0, 16384), 1],
  ],
  // Alignments of 16 and more put even a small block in the TLSF tier.
  aligns: [
    [() => undefined, 3],
    [(rng) => rng.pick([1, 8, 16, 64, 128, 256, 4096]), 2],
    [alignAboveSlot, 2],
  ],
  zeroShare: 0.5,
  askLargestShare: 1,
};

// The pool sits at a random, possibly unaligned, place inside its buffer. Pools from
// RUNS_MIN_POOL bytes on have the runs tier; those just below it do not.
const poolSpec = fc.record({
  before: fc.integer({ min: 0, max: 40 }),
  length: fc.constantFrom(
    4096,
    16384,
    65536,
    RUNS_MIN_POOL - 8,
    RUNS_MIN_POOL,
    RUNS_MIN_POOL + 8,
    2 * RUNS_MIN_POOL,
  ),
  after: fc.integer({ min: 0, max: 40 }),
  // Requests a class has served by blocks before it gets runs: mostly none, so that runs are met.
  warmUp: fc.constantFrom(0, 0, 1, 16, Slot.Warm),
});

Deno.test("a pool agrees with the shared model over random operation sequences", () => {
  fc.assert(
    fc.property(
      poolSpec,
      fc.array(fc.nat(), { maxLength: 200, size: "max" }),
      (spec, seeds) => {
        const buffer = new ArrayBuffer(spec.before + spec.length + spec.after);
        const pool = withWarmUp(
          spec.warmUp,
          () => new Pool(buffer, { byteOffset: spec.before, byteLength: spec.length }),
        );
        // The model describes each call with the block it resolved, for the counterexample.
        const done: string[] = [];
        const model = new Oracle(pool, {
          thorough: true,
          hooks: { begin: (_kind, call) => done.push(`${model.step}: ${call()}`) },
        });
        model.verify();
        try {
          for (const [step, seed] of seeds.entries()) {
            model.step = step;
            model.apply(new OpGenerator(new Rng(seed), MIX).next(model.state()));
            model.verify();
          }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`${message}\nafter:\n${done.join("\n")}`, { cause: error });
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("a pool filled to the brim and emptied in any order is one free block again", () => {
  const request = fc.record({
    size: fc.integer({ min: 0, max: 2048 }),
    align: fc.constantFrom(Size.Align, Size.Align, 64, 512),
  });
  fc.assert(
    fc.property(
      fc.constantFrom(4096, 32768),
      fc.array(request, { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
      (length, requests, shuffle) => {
        const pool = Pool.create(length);
        const initial = pool.largestFreeBlock();
        const blocks = [];
        for (let i = 0;; i++) {
          const { size, align } = requests[i % requests.length]!;
          const block = pool.allocate(size, { align });
          if (block === null) break;
          blocks.push(block);
        }
        // Whatever room is left goes to empty blocks, so the pool is full to the last byte.
        for (let block = pool.allocate(0); block !== null; block = pool.allocate(0)) {
          blocks.push(block);
        }
        assert.equal(pool.largestFreeBlock(), 0);
        assert.equal(pool.bytesFree(), walk(pool).bytesFree);

        for (let i = blocks.length - 1; i > 0; i--) {
          const j = shuffle[i % shuffle.length]! % (i + 1);
          [blocks[i], blocks[j]] = [blocks[j]!, blocks[i]!];
        }
        for (const block of blocks) {
          block.free();
          pool.check();
        }
        assert.equal(pool.largestFreeBlock(), initial);
        assert.equal(pool.stats().freeBlocks, 1);
        assert.equal(pool.bytesUsed(), 0);
        assert.equal([...pool.blocks()].length, 1);
      },
    ),
    { numRuns: 100 },
  );
});
