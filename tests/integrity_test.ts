import assert from "node:assert/strict";
import { type Block, Pool, PoolError } from "../mod.ts";
import { Flag, FreeField, HeaderWord, Size, Value } from "../src/engine/tlsf.ts";
import { Slot } from "../src/engine/runs.ts";

/** The offset of the block whose payload is at `payload`. */
function blockOf(payload: number): number {
  return payload - Size.BlockHeader;
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

/** A pool with one free block, of `size` bytes of payload, between used blocks; and its payload. */
function poolWithHole(size: number): { pool: Pool; hole: number } {
  const pool = Pool.create(4096);
  pool.alloc(4);
  const hole = pool.alloc(size);
  pool.alloc(4);
  pool.free(hole);
  return { pool, hole };
}

/** A pool with two free 112-byte blocks in one bin, each between used blocks. */
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

  await t.step("a bitmap and bin head overwritten to offer a block too small", () => {
    const { pool, hole: small } = poolWithHole(24);
    const u32 = new Uint32Array(pool.buffer);
    // The 32-byte block heads bin 4; make bin 20 (160 bytes) look as if it held it too.
    const headOf = (bin: number) => HeaderWord.SlBitmaps + u32[HeaderWord.FlCount]! + bin;
    assert.equal(u32[headOf(4)], blockOf(small));
    u32[HeaderWord.SlBitmaps]! |= 1 << 20;
    const before = pool.stats();
    u32[headOf(20)] = blockOf(small);
    assert.throws(() => pool.alloc(150), isCorrupt);
    u32[headOf(20)] = Value.Nil;
    u32[HeaderWord.SlBitmaps]! &= ~(1 << 20);
    pool.check();
    assert.deepEqual(pool.stats(), before);
  });

  await t.step("the top block's header", () => {
    const pool = Pool.create(4096);
    const top = new Uint32Array(pool.buffer)[HeaderWord.Top]!;
    expectCaught(pool, top, 64, () => pool.alloc(10));
  });

  await t.step("the top block's header, before a large block is carved from its end", () => {
    const pool = Pool.create(1 << 20);
    const top = new Uint32Array(pool.buffer)[HeaderWord.Top]!;
    expectCaught(pool, top, 64, () => pool.alloc(Size.LargeBlock));
  });

  await t.step("a free block's header, before a large block is carved from its end", () => {
    const pool = Pool.create(1 << 20);
    // The large block takes the pool's end, so the room between it and the
    // small blocks is a free block in a bin, not the top block. The small
    // blocks are above the largest slot: slots would share one run instead.
    pool.alloc(Slot.Max + 1);
    pool.alloc(2 * Size.LargeBlock);
    pool.alloc(Slot.Max + 1);
    const hole = [...pool.blocks()].find((block) => block.free)!;
    assert.ok(hole.blockSize > Size.LargeBlock);
    expectCaught(pool, hole.blockStart, 0x1234, () => pool.alloc(Size.LargeBlock));
  });

  await t.step("a bin head moved by a few bytes, off its block's alignment", () => {
    const { pool, hole } = poolWithHole(100);
    // The hole is alone in its bin: the one word of the pool's metadata that holds its offset.
    const u32 = new Uint32Array(pool.buffer, 0, pool.stats().metadataBytes / Size.Word);
    const heads = [...u32.keys()].filter((i) => u32[i] === blockOf(hole));
    assert.equal(heads.length, 1);
    // Word indices round down, so the head still reads the block's own header, footer and links,
    // and with no block after it in the list, no link back tells.
    for (const by of [1, 2, 3, 4]) {
      expectCaught(pool, heads[0]! * Size.Word, blockOf(hole) + by, () => pool.alloc(100));
    }
  });

  await t.step("the pool header's top-block offset", () => {
    const pool = Pool.create(4096);
    pool.alloc(10);
    expectCaught(pool, HeaderWord.Top * 4, 1000, () => pool.alloc(10));
  });

  await t.step("the top-block offset, moved onto a used block that ends the pool", () => {
    const pool = Pool.create(4096);
    pool.alloc(10);
    const last = pool.alloc(pool.largestFreeBlock());
    // Freed with the top word pointing at it, the block would go to a bin
    // though it reaches the end, and the top word would then pass for true:
    // both would hand out its room.
    expectCaught(pool, HeaderWord.Top * 4, blockOf(last), () => pool.free(last));
  });

  await t.step("the top-block offset, moved onto a used block that ends the pool, shrunk", () => {
    const pool = Pool.create(4096);
    pool.alloc(10);
    const last = pool.alloc(pool.largestFreeBlock());
    expectCaught(pool, HeaderWord.Top * 4, blockOf(last), () => pool.realloc(last, 10));
  });

  await t.step("the top-block offset, moved onto a used block that ends the pool, grown", () => {
    const pool = Pool.create(4096);
    pool.alloc(10);
    const hole = pool.alloc(500);
    pool.alloc(pool.largestFreeBlock() - 100);
    const last = pool.alloc(pool.largestFreeBlock());
    pool.free(hole);
    // The block would move into the hole before its old room went to a bin.
    expectCaught(pool, HeaderWord.Top * 4, blockOf(last), () => pool.realloc(last, 400));
  });

  await t.step("a footer that leads to no free block", () => {
    const { pool, first } = poolWithHoles();
    // The used block after `first` finds `first` through its footer when freed.
    const after = first + 112;
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

/**
 * A free 24-byte block between two used ones, and the last word of the
 * second one's payload holding 48: as a free block's stale footer would, or
 * any data. A header overwritten to say the free block is 48 bytes long
 * then has a footer that agrees, and only the block after that footer, live
 * and not marked as following a free block, tells that it overlaps it.
 */
function poolWithFooterLookalike(): { pool: Pool; before: Block; hole: number } {
  const pool = Pool.create(4096);
  pool.alloc(4);
  const before = pool.allocate(16)!;
  const hole = pool.alloc(16);
  const after = pool.alloc(16);
  pool.alloc(4);
  pool.free(hole);
  new DataView(pool.buffer).setUint32(after + 12, 48, true);
  return { pool, before, hole: blockOf(hole) };
}

Deno.test("a free block's header overwritten to reach over a live block is caught", async (t) => {
  const reaching = 48 | Flag.Free;
  await t.step("when the block before it is freed", () => {
    const { pool, before, hole } = poolWithFooterLookalike();
    expectCaught(pool, hole, reaching, () => before.free());
  });

  await t.step("when the block before it grows into it", () => {
    const { pool, before, hole } = poolWithFooterLookalike();
    expectCaught(pool, hole, reaching, () => pool.resize(before, 40));
    assert.equal(before.length, 16);
  });

  await t.step("when an allocation takes it from its bin", () => {
    const { pool, hole } = poolWithFooterLookalike();
    expectCaught(pool, hole, reaching, () => pool.alloc(16));
  });

  await t.step("when the slow path's walk of a bin reaches it", () => {
    const pool = Pool.create(4096);
    pool.alloc(4);
    const hole = pool.alloc(504);
    const after = pool.alloc(16);
    const head = pool.alloc(504);
    pool.alloc(4);
    pool.alloc(pool.largestFreeBlock());
    pool.free(hole);
    // Heads the bin, too small for 512 bytes, so the fast path finds nothing.
    pool.free(head);
    new DataView(pool.buffer).setUint32(after + 4, 528, true);
    expectCaught(pool, blockOf(hole), 528 | Flag.Free, () => pool.alloc(512));
  });
});

function isCode(code: string): (e: unknown) => boolean {
  return (e) => e instanceof PoolError && e.code === code;
}

Deno.test("free and sizeOf refuse every offset that is not a live block's payload", async (t) => {
  await t.step("an offset inside a payload, behind a header the user forged", () => {
    const pool = Pool.create(4096);
    const a = pool.alloc(100);
    const other = pool.alloc(4);
    const u32 = new Uint32Array(pool.buffer);
    // A used 16-byte block at a + 16: the size right, and a check word copied from a real block.
    u32[(a + 16 - 8) >>> 2] = 16;
    u32[(a + 16 - 4) >>> 2] = u32[(other - 4) >>> 2]!;
    const before = pool.stats();
    for (const op of [() => pool.free(a + 16), () => pool.sizeOf(a + 16)]) {
      assert.throws(op, isCode("invalid-offset"));
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
    assert.throws(() => pool.free(stale), isCode("double-free"));
    pool.check();
    assert.deepEqual(pool.stats(), before);
  });

  await t.step("a stale offset left inside a block that grew down over it", () => {
    const pool = Pool.create(1 << 20);
    // Large blocks are carved from the high end: `grown` lies just below `high`.
    const high = pool.alloc(200 * 1024);
    const grown = pool.alloc(130 * 1024);
    // Walled in by the block above it: it grows down into the free space and keeps its end.
    const moved = pool.realloc(grown, 300 * 1024);
    assert.ok(grown < high && moved < grown && grown < moved + 300 * 1024);
    const before = pool.stats();
    assert.throws(() => pool.free(grown), isCode("invalid-offset"));
    pool.check();
    assert.deepEqual(pool.stats(), before);
  });
});

Deno.test("a live block's header overwritten is caught when the block is freed", async (t) => {
  for (
    const [what, size] of [
      ["a size that reaches exactly the start of the block after next", 64],
      ["a size that ends inside the block's own payload", 16],
      ["a size that ends inside the block after it", 48],
      ["the free flag", 33],
    ] as const
  ) {
    await t.step(what, () => {
      const pool = Pool.create(4096);
      const a = pool.alloc(24);
      const b = pool.alloc(24);
      pool.alloc(24);
      const u32 = new Uint32Array(pool.buffer);
      const saved = u32[blockOf(a) >>> 2]!;
      const before = pool.stats();
      u32[blockOf(a) >>> 2] = size;
      assert.throws(() => pool.free(a), isCorrupt);
      assert.throws(() => pool.sizeOf(a), isCorrupt);
      u32[blockOf(a) >>> 2] = saved;
      pool.check();
      assert.deepEqual(pool.stats(), before);
      pool.free(a);
      pool.free(b);
      pool.check();
    });
  }

  await t.step("through a handle", () => {
    const pool = Pool.create(4096);
    const block = pool.allocate(24)!;
    pool.allocate(24);
    const u32 = new Uint32Array(pool.buffer);
    u32[blockOf(block.offset) >>> 2] = 64;
    assert.throws(() => block.free(), isCorrupt);
    assert.ok(block.live);
  });
});

Deno.test("a refused offset gets the error that names its mistake", async (t) => {
  const codeOf = (op: () => unknown): string | undefined => {
    try {
      op();
    } catch (e) {
      return e instanceof PoolError ? e.code : "not a PoolError";
    }
    return undefined;
  };

  await t.step("freeing twice the block that ended the pool", () => {
    const pool = new Pool(new ArrayBuffer(1024));
    const last = pool.alloc(pool.largestFreeBlock());
    pool.free(last);
    assert.equal(codeOf(() => pool.free(last)), "double-free");
    assert.equal(codeOf(() => pool.sizeOf(last)), "double-free");
  });

  await t.step("freeing twice a block merged since into a free block before or after it", () => {
    const pool = Pool.create(4096);
    const [w, x, y] = [pool.alloc(40), pool.alloc(40), pool.alloc(40)];
    pool.alloc(40);
    pool.free(x);
    pool.free(w);
    assert.equal(codeOf(() => pool.free(x)), "double-free");
    pool.free(y);
    assert.equal(codeOf(() => pool.free(y)), "double-free");
    assert.equal(codeOf(() => pool.realloc(x, 8)), "double-free");
  });

  await t.step("freeing twice a block merged into the top block, which then moved down", () => {
    const pool = Pool.create(4096);
    const w = pool.alloc(40);
    const x = pool.alloc(40);
    pool.free(x);
    pool.free(w);
    assert.equal(codeOf(() => pool.free(x)), "double-free");
  });

  await t.step("a header overwritten with any size, free flag or not", () => {
    for (const value of [0x30, 0x31, 0x40, 0x41, 0xfffffffe, 0xffffffff]) {
      const pool = Pool.create(4096);
      const a = pool.alloc(24);
      pool.alloc(24);
      new Uint32Array(pool.buffer)[blockOf(a) >>> 2] = value;
      assert.equal(codeOf(() => pool.free(a)), "corrupt", `header ${value.toString(16)}`);
    }
  });

  await t.step(
    "offsets inside zeroed payloads and behind data that looks like a free header",
    () => {
      const pool = Pool.create(1 << 20);
      const big = pool.alloc(1 << 19);
      new Uint8Array(pool.buffer, big, 1 << 19).fill(0);
      for (let offset = big + 8; offset < big + (1 << 19); offset += 4096 + 8) {
        assert.equal(codeOf(() => pool.free(offset)), "invalid-offset");
      }
      new Float64Array(pool.buffer, big, 1)[0] = 5e-324; // the 8 bytes 01 00 00 00 00 00 00 00
      assert.equal(codeOf(() => pool.free(big + 8)), "invalid-offset");
      pool.check();
    },
  );
});

Deno.test("check() finds a used block whose check word does not match", () => {
  const pool = Pool.create(4096);
  const a = pool.alloc(40);
  pool.check();
  new Uint32Array(pool.buffer)[(a - 4) >>> 2]! ^= 1;
  assert.throws(() => pool.check(), isCorrupt);
});

Deno.test("a free list turned into a cycle cannot make a walk endless", () => {
  const { pool, first, second } = poolWithHoles();
  const u32 = new Uint32Array(pool.buffer);
  u32[(blockOf(first) + FreeField.Next) >>> 2] = blockOf(second);
  u32[HeaderWord.FreeBlocks] = 0xffffffff;
  // A stale bound above every size: the next largestFreeBlock() must walk.
  u32[HeaderWord.Largest] = 0xffffffff;
  // The walk stops after as many nodes as the pool can hold, however long the cycle.
  const top = [...pool.blocks()].at(-1)!;
  assert.ok(top.free);
  assert.equal(pool.largestFreeBlock(), top.blockSize - Size.BlockHeader);
  assert.throws(() => pool.check(), isCorrupt);
});

Deno.test("check() finds a peak of bytes used below the bytes in use or above the pool", () => {
  const pool = Pool.create(4096);
  const a = pool.alloc(100);
  pool.free(pool.alloc(200));
  pool.check();
  const u32 = new Uint32Array(pool.buffer);
  const peak = u32[HeaderWord.PeakUsed]!;
  const used = pool.bytesUsed();
  const blockBytes = pool.bytesUsed() + pool.bytesFree();
  for (const wrong of [used - 8, 0, blockBytes + 8, 0xffff_fff8]) {
    u32[HeaderWord.PeakUsed] = wrong;
    assert.throws(() => pool.check(), (e) => isCorrupt(e) && /peak of bytes used/.test(`${e}`));
  }
  for (const right of [used, blockBytes, peak]) {
    u32[HeaderWord.PeakUsed] = right;
    pool.check();
  }
  pool.free(a);
});
