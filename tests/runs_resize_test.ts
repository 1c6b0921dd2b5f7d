import assert from "node:assert/strict";
import { Pool } from "../mod.ts";

/** The smallest pool with the runs tier, and the largest slot. */
const RUNS_POOL = 128 * 1024;
const SLOT_MAX = 256;
/** An alignment that keeps a small block in the TLSF tier. */
const BLOCK_ALIGN = 16;

Deno.test("a block of the TLSF tier that cannot grow there moves to a free slot", () => {
  const pool = Pool.create(RUNS_POOL);
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
