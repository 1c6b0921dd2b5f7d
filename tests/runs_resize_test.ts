import assert from "node:assert/strict";
import { Pool } from "../mod.ts";
import { RUNS_MIN_POOL, SLOT_MAX, withWarmUp } from "../tools/_oracle.ts";
import { RunField } from "../src/engine/runs.ts";

/** An alignment that keeps a small block in the TLSF tier. */
const BLOCK_ALIGN = 16;
/** A request in the 24-byte class, and a size it grows to whose slot is 104 bytes. */
const SMALL = 24;
const GROWN = 100;
const GROWN_SLOT = 104;

Deno.test("a block of the TLSF tier that cannot grow there moves to a free slot", () => {
  const pool = withWarmUp(0, () => Pool.create(RUNS_MIN_POOL));
  const bytes = new Uint8Array(pool.buffer);
  // A 50-byte block of the TLSF tier, and a run of 256-byte slots with two of them free.
  const block = pool.alloc(50, BLOCK_ALIGN);
  for (let i = 0; i < 50; i++) bytes[block + i] = i + 1;
  assert.notEqual(pool.alloc(SLOT_MAX), 0);
  // Then the TLSF tier is filled, but for scraps too small for any aligned block.
  for (let largest = pool.largestFreeBlock(); largest > SLOT_MAX;) {
    assert.notEqual(pool.alloc(largest), 0);
    largest = pool.largestFreeBlock();
  }
  while (pool.alloc(0, BLOCK_ALIGN) !== 0);
  assert.equal(pool.largestFreeBlock(), SLOT_MAX, "a free slot is the largest free space");

  // 225 bytes fit no block of the TLSF tier, but a free slot: realloc found no room before.
  const moved = pool.realloc(block, 225);
  assert.notEqual(moved, 0);
  assert.equal(pool.sizeOf(moved), SLOT_MAX);
  assert.deepEqual(
    [...bytes.subarray(moved, moved + 50)],
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  pool.check();
});

Deno.test("a slot that moves to another class counts its net size in the peak", () => {
  const pool = withWarmUp(0, () => Pool.create(RUNS_MIN_POOL));
  const block = pool.allocate(SMALL)!;
  assert.ok(pool.resize(block, GROWN));
  // The two slots were never both the caller's at once; each run counts its header while it
  // holds a live slot.
  assert.equal(pool.bytesUsed(), RunField.Header + GROWN_SLOT);
  assert.equal(pool.stats().peakBytesUsed, RunField.Header + GROWN_SLOT);
});
