import assert from "node:assert/strict";
import { Pool, PoolError } from "../mod.ts";
import { FreeField, HeaderWord, Value } from "../src/tlsf.ts";

/** The offset of the block whose payload is at `payload`. */
function blockOf(payload: number): number {
  return payload - FreeField.FooterFromEnd;
}

function isCorrupt(e: unknown): boolean {
  return e instanceof PoolError && e.code === "corrupt" && /corrupt|overwritten/.test(e.message);
}

/**
 * Overwrites the word at byte `at` with `value`, expects `op` to throw
 * `PoolError("corrupt")`, then puts the word back and expects the pool to
 * be exactly as it was: the failed operation wrote nothing.
 */
function expectCaught(pool: Pool, at: number, value: number, op: () => unknown): void {
  const u32 = new Uint32Array(pool.buffer);
  const before = pool.stats();
  const saved = u32[at >>> 2]!;
  u32[at >>> 2] = value;
  assert.throws(op, isCorrupt);
  u32[at >>> 2] = saved;
  pool.check();
  assert.deepEqual(pool.stats(), before);
}

/** A pool with two free 104-byte blocks in one bin, each between used blocks. */
function poolWithHoles(): { pool: Pool; first: number; second: number } {
  const pool = Pool.create(4096);
  pool.alloc(4);
  const first = pool.alloc(100);
  pool.alloc(4);
  const second = pool.alloc(100);
  pool.alloc(4);
  pool.free(first);
  pool.free(second);
  return { pool, first, second };
}

Deno.test("damage to the pool's own bytes is reported, and nothing is written through it", async (t) => {
  await t.step("a free-list link that does not point back", () => {
    const { pool, second } = poolWithHoles();
    // `second` heads the list; its Next is `first`. Point it elsewhere.
    expectCaught(pool, blockOf(second) + FreeField.Next, blockOf(second) + 64, () => {
      pool.alloc(100);
      pool.alloc(100);
    });
  });

  await t.step("a block at a list's head whose header is overwritten", () => {
    const { pool, second } = poolWithHoles();
    expectCaught(pool, blockOf(second), 0x1234, () => pool.alloc(100));
  });

  await t.step("a bin head in the pool header that names no free block", () => {
    const { pool, second } = poolWithHoles();
    // `second` heads its list, so the first word holding its offset is that bin's head.
    const heads = new Uint32Array(pool.buffer).indexOf(blockOf(second));
    expectCaught(pool, heads * 4, 8, () => pool.alloc(100));
  });

  await t.step("the top block's header", () => {
    const pool = Pool.create(4096);
    const top = new Uint32Array(pool.buffer)[HeaderWord.Top]!;
    expectCaught(pool, top, 64, () => pool.alloc(10));
  });

  await t.step("the pool header's top-block offset", () => {
    const pool = Pool.create(4096);
    pool.alloc(10);
    expectCaught(pool, HeaderWord.Top * 4, 1000, () => pool.alloc(10));
  });

  await t.step("a footer that leads to no free block", () => {
    const { pool, first } = poolWithHoles();
    // The used block after `first` finds `first` through its footer when freed.
    const after = first + 104;
    expectCaught(pool, blockOf(after) - FreeField.FooterFromEnd, 48, () => pool.free(after));
  });

  await t.step("a used block's header overwritten before resize", () => {
    const pool = Pool.create(4096);
    const block = pool.allocate(40)!;
    pool.allocate(8);
    expectCaught(pool, blockOf(block.offset), 0x10_0000, () => pool.resize(block, 80));
    assert.ok(block.live);
  });
});

Deno.test("free refuses a stale offset whose header word now holds a free-list link", () => {
  const pool = Pool.create(4096);
  const a = pool.alloc(20);
  const stale = pool.alloc(4);
  pool.free(stale);
  pool.free(a);
  pool.alloc(4);
  const f = pool.alloc(28);
  pool.alloc(4);
  const g = pool.alloc(28);
  pool.alloc(4);
  pool.free(f);
  pool.free(g);
  // `stale` - 4 is now f's Prev link: a block offset, which a header never looks like.
  assert.equal(new Uint32Array(pool.buffer)[blockOf(stale) >>> 2]! & 7, 4);
  const before = pool.stats();
  assert.throws(
    () => pool.free(stale),
    (e) => e instanceof PoolError && e.code === "invalid-offset",
  );
  assert.throws(
    () => pool.sizeOf(stale),
    (e) => e instanceof PoolError && e.code === "invalid-offset",
  );
  pool.check();
  assert.deepEqual(pool.stats(), before);
});

Deno.test("a free list turned into a cycle cannot make a walk endless", () => {
  const { pool, first, second } = poolWithHoles();
  const u32 = new Uint32Array(pool.buffer);
  u32[(blockOf(first) + FreeField.Next) >>> 2] = blockOf(second);
  u32[HeaderWord.FreeBlocks] = 0xffffffff;
  u32[HeaderWord.Largest] = Value.LargestUnknown;
  // The walk stops after as many nodes as the pool can hold, however long the cycle.
  const top = [...pool.blocks()].at(-1)!;
  assert.ok(top.free);
  assert.equal(pool.largestFreeBlock(), top.size - 4);
  assert.throws(() => pool.check(), isCorrupt);
});
