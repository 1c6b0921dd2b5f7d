// A Block's block is freed and resized only through the Block: the raw path
// refuses its offset, so no handle can go stale and later free (or say it
// owns) a block handed out to someone else.

import assert from "node:assert/strict";
import { Pool, PoolError } from "../mod.ts";
import { Size } from "../src/engine/tlsf.ts";
import { snapshot } from "./_model.ts";

function poolError(code: string, message: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof PoolError && e.code === code && message.test(e.message);
}

for (const debug of [false, true]) {
  const mode = debug ? "a debug pool" : "a pool";

  Deno.test(`${mode}: free and realloc refuse a Block's offset and change nothing`, () => {
    const pool = Pool.create(4096, { debug });
    const block = pool.allocateOrThrow(64);
    block.f64.fill(7);
    const before = snapshot(pool);
    const owned = poolError(
      "invalid-offset",
      /^Cannot (free|realloc) offset \d+: it is the payload of a Block/,
    );
    assert.throws(() => pool.free(block.offset), owned);
    assert.throws(() => pool.realloc(block.offset, 128), owned);
    assert.deepEqual(snapshot(pool), before);
    // Measuring it by its offset is allowed.
    assert.ok(pool.sizeOf(block.offset) >= 64);
    // Nothing else can be handed its memory while the Block lives.
    const other = pool.allocateOrThrow(64);
    assert.notEqual(other.offset, block.offset);
    assert.ok(block.f64.every((x) => x === 7));
    block.free();
    other.free();
    pool.check();
    assert.equal(debug ? pool.leaks().length : pool.stats().liveBlocks, 0);
  });

  Deno.test(`${mode}: a freed Block whose place was handed out again frees nothing`, () => {
    const pool = Pool.create(1 << 16, { debug });
    const stale = pool.allocateOrThrow(64);
    stale.free();
    // Fill the pool's small blocks so that the same place is handed out again.
    const taken = [];
    let reused: number | undefined;
    // (A debug pool first holds freed blocks in its quarantine, an eighth of the pool.)
    for (let i = 0; i < 500 && reused === undefined; i++) {
      const block = pool.allocateOrThrow(64);
      taken.push(block);
      if (block.offset === stale.offset) reused = i;
      const raw = pool.alloc(64);
      if (raw === stale.offset) reused = i;
      else pool.free(raw);
    }
    assert.ok(reused !== undefined, "the stale block's place was handed out again");
    const before = snapshot(pool);
    assert.throws(() => stale.free(), poolError("double-free", /freed already/));
    assert.throws(() => pool.resize(stale, 8), poolError("double-free", /freed already/));
    assert.deepEqual(snapshot(pool), before);
    for (const block of taken) block.free();
    pool.check();
    assert.equal(debug ? pool.leaks().length : pool.stats().liveBlocks, 0);
  });
}

Deno.test("a Block's block whose header was overwritten is reported corrupt, by any path", () => {
  const pool = Pool.create(4096);
  const block = pool.allocateOrThrow(64);
  const u32 = new Uint32Array(pool.buffer);
  const header = (block.offset - Size.BlockHeader) >>> 2;
  u32[header] = u32[header]! + Size.Align;
  const corrupt = poolError("corrupt", /overwritten/);
  assert.throws(() => block.free(), corrupt);
  assert.throws(() => pool.resize(block, 8), corrupt);
  assert.throws(() => pool.sizeOf(block.offset), corrupt);
  assert.throws(() => pool.free(block.offset), corrupt);
  assert.throws(() => pool.check(), poolError("corrupt", /corrupt/));
  u32[header] = u32[header]! - Size.Align;
  pool.check();
  block.free();
  assert.equal(pool.bytesUsed(), 0);
});
