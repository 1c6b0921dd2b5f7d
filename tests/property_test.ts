import assert from "node:assert/strict";
import fc from "fast-check";
import { Pool } from "../mod.ts";
import { Size } from "../src/engine/tlsf.ts";
import { assertPattern, type Entry, fillPattern, Model, walk, wholeSizeFor } from "./_model.ts";

type Op =
  | { kind: "allocate"; size: number; align: number | undefined; zero: boolean }
  | { kind: "allocateLargest" }
  | { kind: "free"; pick: number }
  | { kind: "resize"; pick: number; size: number }
  | { kind: "alloc"; size: number; align: number }
  | { kind: "rawFree"; pick: number };

// Mostly small blocks, some large enough to run a small pool out of memory.
const size = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 64 }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 1024 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 16384 }), weight: 1 },
);
const pick = fc.nat();

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("allocate" as const),
      size,
      align: fc.constantFrom(undefined, 1, 8, 16, 64, 256, 4096),
      zero: fc.boolean(),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant("allocateLargest" as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("free" as const), pick }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("resize" as const), pick, size }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("alloc" as const),
      size,
      align: fc.constantFrom(8, 16, 128),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("rawFree" as const), pick }), weight: 2 },
);

// The pool sits at a random, possibly unaligned, place inside its buffer.
const poolSpec = fc.record({
  before: fc.integer({ min: 0, max: 40 }),
  length: fc.constantFrom(4096, 16384, 65536),
  after: fc.integer({ min: 0, max: 40 }),
});

/**
 * Asserts that a failed allocation was impossible. At the default alignment
 * any free block big enough serves, so the size must exceed the largest free
 * payload; an aligned one may also need room for the gap in front of it.
 */
function assertImpossible(size: number, align: number, largestBefore: number): void {
  // largestFreeBlock() is 0 when no block is free, so then even size 0 fails.
  if (largestBefore === 0) return;
  if (align <= Size.Align) {
    assert.ok(size > largestBefore, `allocating ${size} failed though ${largestBefore} was free`);
  } else {
    assert.ok(
      wholeSizeFor(size) + align + Size.Align > largestBefore + Size.BlockHeader,
      `allocating ${size} aligned to ${align} failed though ${largestBefore} was free`,
    );
  }
}

/** Asserts that a successful allocation was possible (a sanity check of the model). */
function assertPossible(size: number, largestBefore: number): void {
  assert.ok(
    size <= largestBefore,
    `allocating ${size} worked though only ${largestBefore} was free`,
  );
}

function run(model: Model, step: Op): void {
  const pool = model.pool;
  const largest = pool.largestFreeBlock();
  switch (step.kind) {
    case "allocate": {
      const options = step.align === undefined
        ? { zero: step.zero }
        : { align: step.align, zero: step.zero };
      const align = Math.max(step.align ?? Size.Align, Size.Align);
      const block = pool.allocate(step.size, options);
      if (block === null) {
        model.failedAllocations++;
        assertImpossible(step.size, align, largest);
        return;
      }
      assertPossible(step.size, largest);
      assert.equal(block.length, step.size);
      assert.equal(block.align, align);
      if (step.zero) assert.ok(block.u8.every((byte) => byte === 0), "zero: true zero-fills");
      model.add(block, block.offset, step.size, align);
      return;
    }
    case "allocateLargest": {
      // The largest free payload must always be allocatable, wherever that block is.
      const block = pool.allocate(largest);
      if (largest === 0) {
        assert.equal(block, null, "with no free block nothing fits");
        model.failedAllocations++;
        return;
      }
      assert.ok(block !== null, `allocate(largestFreeBlock()) failed for ${largest}`);
      model.add(block, block.offset, largest, Size.Align);
      return;
    }
    case "alloc": {
      const offset = pool.alloc(step.size, step.align);
      if (offset === 0) {
        model.failedAllocations++;
        assertImpossible(step.size, step.align, largest);
        return;
      }
      assertPossible(step.size, largest);
      model.add(null, offset, step.size, step.align);
      return;
    }
    case "free": {
      const entry = model.pick(true, step.pick);
      if (entry === undefined) return;
      entry.block!.free();
      assert.equal(entry.block!.live, false);
      model.remove(entry);
      return;
    }
    case "rawFree": {
      const entry = model.pick(false, step.pick);
      if (entry === undefined) return;
      pool.free(entry.offset);
      model.remove(entry);
      return;
    }
    case "resize": {
      const entry = model.pick(true, step.pick);
      if (entry === undefined) return;
      resize(model, entry, step.size, largest);
      return;
    }
  }
}

/**
 * Whole bytes a block could grow into without moving another block: itself
 * and the free blocks right before and after it.
 */
function reach(pool: Pool, offset: number): number {
  const infos = [...pool.blocks()];
  const i = infos.findIndex((info) => info.offset === offset);
  const freeSize = (j: number) => infos[j]?.free ? infos[j]!.blockSize : 0;
  return freeSize(i - 1) + infos[i]!.blockSize + freeSize(i + 1);
}

function resize(model: Model, entry: Entry, length: number, largestBefore: number): void {
  const pool = model.pool;
  const block = entry.block!;
  const before = pool.stats();
  const around = reach(pool, entry.offset);
  if (!pool.resize(block, length)) {
    // It fails only if it fits neither around the block nor in any free block.
    const gap = entry.align > Size.Align ? entry.align + Size.Align : 0;
    assert.ok(
      wholeSizeFor(length) + gap > around,
      `resize to ${length} failed though ${around} bytes are free around the block`,
    );
    assertImpossible(length, entry.align, largestBefore);
    assert.equal(block.offset, entry.offset, "a failed resize leaves the block where it was");
    assert.equal(block.length, entry.length, "a failed resize leaves the length");
    assert.deepEqual(pool.stats(), before, "a failed resize changes no counter");
    return;
  }
  assert.equal(block.length, length);
  assertPattern(pool.buffer, block.offset, Math.min(length, entry.length), entry.seed, "resized");
  entry.offset = block.offset;
  entry.length = length;
  fillPattern(pool.buffer, entry.offset, length, entry.seed);
}

Deno.test("a pool agrees with a reference model over random command sequences", () => {
  fc.assert(
    fc.property(poolSpec, fc.array(op, { maxLength: 200, size: "max" }), (spec, ops) => {
      const buffer = new ArrayBuffer(spec.before + spec.length + spec.after);
      const model = new Model(
        new Pool(buffer, { byteOffset: spec.before, byteLength: spec.length }),
      );
      model.verify();
      for (const step of ops) {
        run(model, step);
        model.verify();
      }
    }),
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
