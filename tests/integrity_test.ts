import assert from "node:assert/strict";
import { Pool, PoolError } from "../mod.ts";
import { FreeField, HeaderWord, LiveMap, Value } from "../src/tlsf.ts";

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

/** Allocates small blocks until the next one starts in the first half of a live-map word. */
function alignToMapWord(pool: Pool): void {
  while (((pool.alloc(4) + 16 - pool.byteOffset) & (LiveMap.BytesPerWord - 1)) >= 128);
}

Deno.test("free and sizeOf know exactly which offsets are live blocks", async (t) => {
  await t.step("an offset inside a payload, behind a header the user forged", () => {
    const pool = Pool.create(4096);
    const a = pool.alloc(100);
    pool.alloc(4);
    const u32 = new Uint32Array(pool.buffer);
    // A used 16-byte block at a + 16 followed by a used 16-byte block: all a header check could ask.
    u32[(a + 16 - 4) >>> 2] = 16;
    u32[(a + 32 - 4) >>> 2] = 16;
    const before = pool.stats();
    for (const op of [() => pool.free(a + 16), () => pool.sizeOf(a + 16)]) {
      assert.throws(op, (e) => e instanceof PoolError && e.code === "invalid-offset");
    }
    pool.check();
    assert.deepEqual(pool.stats(), before);
  });

  await t.step("a stale offset merged into a free block before it", () => {
    const pool = Pool.create(4096);
    const a = pool.alloc(20);
    const stale = pool.alloc(20);
    pool.alloc(4);
    pool.free(a);
    pool.free(stale);
    const before = pool.stats();
    assert.throws(
      () => pool.free(stale),
      (e) => e instanceof PoolError && e.code === "double-free",
    );
    pool.check();
    assert.deepEqual(pool.stats(), before);
  });
});

Deno.test("a live block's header overwritten with another size is caught when it is freed", async (t) => {
  await t.step("a size that reaches exactly the start of a live block further on", () => {
    const pool = Pool.create(4096);
    alignToMapWord(pool);
    const a = pool.alloc(20);
    pool.alloc(20);
    pool.alloc(20);
    // 24 + 24: over the next block, onto the one after, whose flags agree.
    expectCaught(pool, blockOf(a), 48, () => pool.free(a));
  });

  await t.step("a size that ends inside the block's own payload", () => {
    const pool = Pool.create(4096);
    const a = pool.alloc(40);
    pool.alloc(4);
    new Uint8Array(pool.buffer, a, 40).fill(0);
    expectCaught(pool, blockOf(a), 32, () => pool.free(a));
  });

  await t.step("a size that ends inside a live block further on", () => {
    const pool = Pool.create(4096);
    const a = pool.alloc(300);
    const b = pool.alloc(300);
    new Uint8Array(pool.buffer, b, 300).fill(0);
    expectCaught(pool, blockOf(a), 304 + 64, () => pool.free(a));
  });
});

Deno.test("check() finds a live-map bit where no live block starts", () => {
  const pool = Pool.create(4096);
  const a = pool.alloc(40);
  pool.check();
  const u32 = new Uint32Array(pool.buffer);
  const word = u32[HeaderWord.LiveMap]! / 4 + ((blockOf(a) + 48) >>> LiveMap.BytesPerWordLog2);
  u32[word]! ^= 1 << (((blockOf(a) + 48) >>> 3) & LiveMap.BitMask);
  assert.throws(() => pool.check(), isCorrupt);
});

Deno.test("the live map is part of the metadata: a bit for every 8 bytes", () => {
  // Sizes 3 · 2^k: 16 KiB more stays within one power of two, so the rows of bins stay the same.
  for (const bytes of [3 << 14, 3 << 18, 3 << 22]) {
    const small = new Pool(new ArrayBuffer(bytes)).stats().metadataBytes;
    const large = new Pool(new ArrayBuffer(bytes + (1 << 14))).stats().metadataBytes;
    assert.equal(large - small, (1 << 14) / 64);
  }
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
