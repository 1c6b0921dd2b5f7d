import assert from "node:assert/strict";
import { Block, Pool, PoolError } from "../mod.ts";
import { Flag, HeaderWord, Size, Value } from "../src/engine/tlsf.ts";
import { Slot } from "../src/engine/runs.ts";
import {
  assertBlock,
  fillBlock,
  largestPayload,
  smallestPoolBytes,
  snapshot,
  walk,
} from "./_model.ts";

const KIB = 1024;

/** Allocates a block that must fit and fills it with the pattern of `seed`. */
function filled(pool: Pool, size: number, seed: number, align?: number): Block {
  const block = pool.allocate(size, align === undefined ? {} : { align });
  assert.ok(block !== null, `allocating ${size} bytes fits`);
  fillBlock(block, seed);
  return block;
}

/** Allocates a block that must fit. */
function must(block: Block | null): Block {
  assert.ok(block !== null, "the allocation fits");
  return block;
}

/** Asserts what every empty pool looks like. */
function assertEmpty(pool: Pool): void {
  pool.check();
  const layout = walk(pool);
  const stats = pool.stats();
  assert.equal(stats.capacity, pool.byteLength);
  assert.equal(stats.bytesUsed, 0);
  assert.equal(stats.liveBlocks, 0);
  assert.equal(stats.freeBlocks, 1);
  assert.equal(stats.fragmentation, 0);
  assert.equal(layout.freeBlocks, 1);
  assert.equal(pool.bytesUsed(), 0);
  assert.equal(pool.bytesFree(), pool.byteLength - stats.metadataBytes);
  assert.equal(pool.largestFreeBlock(), pool.bytesFree() - Size.BlockHeader);
}

Deno.test("new Pool formats a buffer or a range of it", async (t) => {
  await t.step("over a whole ArrayBuffer it spans the buffer and starts empty", () => {
    const buffer = new ArrayBuffer(4 * KIB);
    const pool = new Pool(buffer);
    assert.equal(pool.buffer, buffer);
    assert.equal(pool.byteOffset, 0);
    assert.equal(pool.byteLength, buffer.byteLength);
    assertEmpty(pool);
    const stats = pool.stats();
    assert.equal(stats.allocations, 0);
    assert.equal(stats.frees, 0);
    assert.equal(stats.failedAllocations, 0);
    assert.equal(stats.peakBytesUsed, 0);
  });

  await t.step("over a SharedArrayBuffer it works the same, visible through other views", () => {
    const buffer = new SharedArrayBuffer(4 * KIB);
    const pool = new Pool(buffer);
    assert.equal(pool.buffer, buffer);
    assertEmpty(pool);
    const block = filled(pool, 100, 7);
    assert.equal(block.u8.buffer, buffer);
    assert.deepEqual(new Uint8Array(buffer, block.offset, block.length), block.u8);
    assert.ok(pool.resize(block, 2 * KIB));
    assertBlock(block, 7, 100);
    block.free();
    assertEmpty(pool);
  });

  await t.step("over a WebAssembly.Memory's buffer it works the same", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const pool = new Pool(memory.buffer);
    assertEmpty(pool);
    const block = filled(pool, 1000, 3);
    assertBlock(block, 3);
    block.free();
    assertEmpty(pool);
  });

  await t.step("an aligned range is used exactly", () => {
    const pool = new Pool(new ArrayBuffer(8 * KIB), { byteOffset: KIB, byteLength: 2 * KIB });
    assert.equal(pool.byteOffset, KIB);
    assert.equal(pool.byteLength, 2 * KIB);
    assertEmpty(pool);
  });

  await t.step("byteLength defaults to the rest of the buffer after byteOffset", () => {
    const pool = new Pool(new ArrayBuffer(8 * KIB), { byteOffset: KIB });
    assert.equal(pool.byteOffset, KIB);
    assert.equal(pool.byteLength, 7 * KIB);
    assertEmpty(pool);
  });

  await t.step("an unaligned range is rounded inward to multiples of 8", () => {
    const ranges: [number, number][] = [[3, 1000], [1, 1023], [8, 1001], [7, 1025]];
    for (const [byteOffset, byteLength] of ranges) {
      const pool = new Pool(new ArrayBuffer(2 * KIB), { byteOffset, byteLength });
      const start = Math.ceil(byteOffset / Size.Align) * Size.Align;
      const end = Math.floor((byteOffset + byteLength) / Size.Align) * Size.Align;
      assert.equal(pool.byteOffset, start, `start of [${byteOffset}, +${byteLength})`);
      assert.equal(pool.byteLength, end - start, `length of [${byteOffset}, +${byteLength})`);
      assertEmpty(pool);
      const block = must(pool.allocate(16));
      assert.equal(block.offset % Size.Align, 0);
    }
  });

  await t.step("the pool never writes outside its range", () => {
    const outside = 0xa5;
    const buffer = new ArrayBuffer(4 * KIB);
    const bytes = new Uint8Array(buffer).fill(outside);
    const pool = new Pool(buffer, { byteOffset: 101, byteLength: 3 * KIB + 5 });
    const blocks = [];
    for (let i = 0; i < 10; i++) blocks.push(must(pool.allocate(100, { zero: true })));
    assert.ok(pool.resize(blocks[3]!, 500));
    for (let block = pool.allocate(0); block !== null; block = pool.allocate(0)) {
      blocks.push(block);
    }
    for (const block of blocks) block.u8.fill(0);
    for (const block of blocks) block.free();
    assertEmpty(pool);
    const end = pool.byteOffset + pool.byteLength;
    bytes.forEach((byte, i) => {
      if (i < pool.byteOffset || i >= end) assert.equal(byte, outside, `byte ${i}`);
    });
  });

  await t.step("two pools on disjoint ranges of one buffer do not disturb each other", () => {
    const buffer = new ArrayBuffer(8 * KIB);
    const low = new Pool(buffer, { byteLength: 4 * KIB });
    const high = new Pool(buffer, { byteOffset: 4 * KIB });
    const a = filled(low, low.largestFreeBlock(), 1);
    const b = filled(high, high.largestFreeBlock(), 2);
    assertBlock(a, 1);
    assertBlock(b, 2);
    low.check();
    high.check();
    a.free();
    assertEmpty(low);
    assertBlock(b, 2);
  });

  await t.step("the smallest pool holds exactly one smallest block", () => {
    const n = smallestPoolBytes();
    const pool = new Pool(new ArrayBuffer(n));
    assert.equal(pool.byteLength, n);
    assertEmpty(pool);
    assert.equal(pool.largestFreeBlock(), Size.MinPayload);
    const block = must(pool.allocate(Size.MinPayload));
    assert.equal(pool.allocate(0), null);
    block.free();
    assertEmpty(pool);
    assert.throws(() => new Pool(new ArrayBuffer(n - Size.Align)), RangeError);
  });
});

Deno.test("Pool.create makes a pool over a new ArrayBuffer of that many bytes", () => {
  const pool = Pool.create(64 * KIB);
  assert.ok(pool.buffer instanceof ArrayBuffer);
  assert.equal(pool.buffer.byteLength, 64 * KIB);
  assert.equal(pool.byteOffset, 0);
  assert.equal(pool.byteLength, 64 * KIB);
  assertEmpty(pool);
  assert.notEqual(Pool.create(64 * KIB).buffer, pool.buffer);
});

Deno.test("allocate", async (t) => {
  await t.step("returns a live block of exactly the requested length, 8-byte aligned", () => {
    const pool = Pool.create(16 * KIB);
    for (const size of [1, 7, 8, 9, 12, 13, 100, 1000, 4 * KIB]) {
      const block = must(pool.allocate(size));
      assert.ok(block instanceof Block);
      assert.equal(block.length, size);
      assert.equal(block.offset % Size.Align, 0);
      assert.equal(block.align, Size.Align);
      assert.equal(block.pool, pool);
      assert.equal(block.live, true);
      assert.ok(pool.sizeOf(block.offset) >= size);
    }
    pool.check();
  });

  await t.step("size 0 gives valid, empty blocks at distinct offsets", () => {
    const pool = Pool.create(4 * KIB);
    const a = must(pool.allocate(0));
    const b = must(pool.allocate(0));
    assert.notEqual(a.offset, b.offset);
    assert.equal(a.length, 0);
    assert.equal(a.u8.length, 0);
    assert.equal(a.f64.length, 0);
    assert.equal(pool.stats().liveBlocks, 2);
    assert.equal(pool.bytesUsed(), 2 * Size.MinBlock);
    a.free();
    b.free();
    assertEmpty(pool);
  });

  await t.step("align from 16 to 4096 puts the payload on that boundary", () => {
    const pool = Pool.create(64 * KIB);
    const blocks = [];
    for (let align = 16; align <= 4096; align *= 2) {
      // A small block in between moves the next free byte off every boundary.
      blocks.push(must(pool.allocate(1)));
      const block = filled(pool, 24, align, align);
      assert.equal(block.offset % align, 0, `align ${align}`);
      assert.equal(block.align, align);
      blocks.push(block);
      pool.check();
    }
    for (const block of blocks) if (block.length === 24) assertBlock(block, block.align);
    for (const block of blocks) block.free();
    assertEmpty(pool);
  });

  await t.step("align below 8 gives 8", () => {
    const pool = Pool.create(4 * KIB);
    for (const align of [1, 2, 4, 8]) {
      const block = must(pool.allocate(3, { align }));
      assert.equal(block.align, Size.Align);
      assert.equal(block.offset % Size.Align, 0);
    }
  });

  await t.step("zero: true zero-fills memory that was dirty, and nothing around it", () => {
    const pool = new Pool(new ArrayBuffer(8 * KIB), { byteOffset: 24 });
    const dirty = must(pool.allocate(256));
    const neighbour = filled(pool, 64, 9);
    dirty.u8.fill(0xff);
    const offset = dirty.offset;
    dirty.free();
    const clean = must(pool.allocate(256, { zero: true }));
    assert.equal(clean.offset, offset, "the dirty memory is handed out again");
    assert.ok(clean.u8.every((byte) => byte === 0));
    assertBlock(neighbour, 9);
    pool.check();
  });

  await t.step("returns null when nothing can hold the size, and counts the failure", () => {
    const pool = Pool.create(4 * KIB);
    const keep = filled(pool, 100, 4);
    for (const size of [pool.byteLength, pool.largestFreeBlock() + 1, 2 ** 32, 2 ** 53 - 1]) {
      const before = pool.stats();
      assert.equal(pool.allocate(size), null, `size ${size}`);
      assert.equal(pool.allocate(size, { align: 64 }), null, `size ${size} aligned`);
      assert.deepEqual(pool.stats(), {
        ...before,
        failedAllocations: before.failedAllocations + 2,
      });
    }
    assert.equal(pool.allocate(1, { align: 2 ** 31 }), null);
    assertBlock(keep, 4);
    pool.check();
  });

  await t.step("allocate(largestFreeBlock()) fits and one byte more does not", () => {
    const pool = Pool.create(16 * KIB);
    const blocks = [];
    for (let i = 0; i < 40; i++) blocks.push(must(pool.allocate((i * 37) % 300)));
    must(pool.allocate(pool.largestFreeBlock()));
    // With the top block used up, the largest free block is one of these holes.
    for (let i = 0; i < blocks.length; i += 3) blocks[i]!.free();
    for (let round = 0; round < 5; round++) {
      const largest = pool.largestFreeBlock();
      assert.equal(largest, largestPayload(walk(pool)));
      assert.equal(pool.allocate(largest + 1), null);
      must(pool.allocate(largest));
      pool.check();
    }
  });

  await t.step("finds the one free block that fits, even in a size class of mixed sizes", () => {
    // Size classes above a few hundred bytes span several sizes, and the
    // constant-time search skips a class that may hold too-small blocks: a
    // lone 1000-byte hole shares its class with smaller sizes.
    const hole = 1000;
    for (const align of [Size.Align, 64]) {
      const pool = Pool.create(16 * KIB);
      must(pool.allocate(8));
      const gap = must(pool.allocate(hole - Size.BlockHeader));
      must(pool.allocate(8));
      must(pool.allocate(pool.largestFreeBlock()));
      gap.free();
      assert.equal(pool.largestFreeBlock(), hole - Size.BlockHeader);
      // Room for the payload and for the worst leading gap an alignment can need.
      const size = align === Size.Align
        ? hole - Size.BlockHeader
        : hole - Size.BlockHeader - align - Size.Align;
      const block = must(pool.allocate(size, { align }));
      assert.ok(block.offset >= gap.offset && block.offset < gap.offset + hole, `align ${align}`);
      assert.equal(block.offset % align, 0);
      pool.check();
    }
  });

  await t.step("a full pool has no free bytes and cannot hold even an empty block", () => {
    const pool = Pool.create(4 * KIB);
    const block = must(pool.allocate(pool.largestFreeBlock()));
    assert.equal(pool.largestFreeBlock(), 0);
    assert.equal(pool.bytesFree(), 0);
    const stats = pool.stats();
    assert.equal(stats.freeBlocks, 0);
    assert.equal(stats.fragmentation, 0);
    assert.equal(pool.allocate(0), null);
    assert.equal(pool.alloc(0), 0);
    block.free();
    assertEmpty(pool);
  });

  await t.step("a large block is carved from the high end of free space", () => {
    const pool = Pool.create(KIB * KIB);
    const poolEnd = pool.byteOffset + pool.byteLength - Size.Sentinel;
    // Above the largest slot, so a block of the TLSF tier at the low end, not a slot in a run.
    const small = must(pool.allocate(Slot.Max + 1));
    // Its whole block, header included, is LargeBlock bytes: it goes to the high end.
    const large = filled(pool, Size.LargeBlock - Size.BlockHeader, 14);
    assert.equal(large.offset + pool.sizeOf(large.offset), poolEnd);
    // A block just smaller is not large: it follows `small` at the low end.
    const below = must(pool.allocate(Size.LargeBlock - 2 * Size.BlockHeader));
    assert.equal(below.offset, small.offset + pool.sizeOf(small.offset) + Size.BlockHeader);
    assertBlock(large, 14);
    pool.check();
    // Freed, its room and the free space in front of it are one block again.
    const largest = pool.largestFreeBlock();
    large.free();
    pool.check();
    assert.equal(pool.stats().freeBlocks, 1);
    assert.equal(pool.largestFreeBlock(), largest + Size.LargeBlock);
  });
});

Deno.test("a Block", async (t) => {
  await t.step("u8 is exactly its payload's bytes and the same object every time", () => {
    const pool = new Pool(new ArrayBuffer(4 * KIB), { byteOffset: 16 });
    const block = must(pool.allocate(13));
    const u8 = block.u8;
    assert.ok(u8 instanceof Uint8Array);
    assert.equal(u8.buffer, pool.buffer);
    assert.equal(u8.byteOffset, block.offset);
    assert.equal(u8.length, 13);
    assert.equal(block.u8, u8);
  });

  await t.step("f64 has floor(length / 8) elements over the payload, cached", () => {
    const pool = Pool.create(4 * KIB);
    for (const length of [0, 7, 8, 15, 16, 17, 100]) {
      const block = must(pool.allocate(length));
      const f64 = block.f64;
      assert.ok(f64 instanceof Float64Array);
      assert.equal(f64.length, Math.floor(length / 8));
      assert.equal(f64.byteOffset, block.offset);
      assert.equal(block.f64, f64);
    }
  });

  await t.step("u8 and f64 see the same bytes", () => {
    const block = must(Pool.create(4 * KIB).allocate(16));
    block.f64[1] = -1.5;
    assert.deepEqual(block.u8.subarray(8), new Uint8Array(new Float64Array([-1.5]).buffer));
  });

  await t.step("view() makes typed arrays of whole elements over the payload", () => {
    const block = must(Pool.create(4 * KIB).allocate(20));
    const i32 = block.view(Int32Array);
    assert.ok(i32 instanceof Int32Array);
    assert.equal(i32.length, 5);
    assert.equal(i32.byteOffset, block.offset);
    const i64 = block.view(BigInt64Array);
    assert.ok(i64 instanceof BigInt64Array);
    assert.equal(i64.length, 2);
    i64[1] = -2n;
    assert.equal(i32[2], -2);
    assert.equal(i32[3], -1);
    assert.equal(block.view(Float32Array).length, 5);
    assert.equal(block.view(Uint16Array).length, 10);
    assert.notEqual(block.view(Int32Array), i32, "view() makes a new view every call");
  });

  await t.step("free() frees it: not live, bytes back to the pool", () => {
    const pool = Pool.create(4 * KIB);
    const block = must(pool.allocate(100));
    assert.ok(pool.bytesUsed() > 0);
    block.free();
    assert.equal(block.live, false);
    assertEmpty(pool);
    assert.equal(pool.stats().frees, 1);
  });
});

Deno.test("deallocate", async (t) => {
  await t.step("gives back the block's whole size", () => {
    const pool = Pool.create(4 * KIB);
    const keep = must(pool.allocate(50));
    const block = must(pool.allocate(100));
    const free = pool.bytesFree();
    const size = pool.sizeOf(block.offset) + Size.BlockHeader;
    pool.deallocate(block);
    assert.equal(block.live, false);
    assert.equal(pool.bytesFree(), free + size);
    assert.equal(pool.stats().liveBlocks, 1);
    keep.free();
    assertEmpty(pool);
  });

  await t.step("merges a block with its free neighbours at once, the top block included", () => {
    const pool = Pool.create(4 * KIB);
    const [a, b, c] = [100, 200, 300].map((size) => must(pool.allocate(size)));
    pool.deallocate(a!);
    pool.deallocate(c!);
    assert.equal(pool.stats().freeBlocks, 2, "a's block, and c merged into the top block");
    pool.deallocate(b!);
    assertEmpty(pool);
  });

  await t.step("merges a block with free neighbours on both sides, away from the top", () => {
    const pool = Pool.create(4 * KIB);
    const [a, b, c] = [100, 200, 300].map((size) => must(pool.allocate(size)));
    const guard = must(pool.allocate(8));
    const sizes = [a!, b!, c!].map((block) => pool.sizeOf(block.offset) + Size.BlockHeader);
    pool.deallocate(a!);
    pool.deallocate(c!);
    assert.equal(pool.stats().freeBlocks, 3);
    pool.deallocate(b!);
    pool.check();
    assert.equal(pool.stats().freeBlocks, 2);
    const free = [...pool.blocks()].filter((info) => info.free);
    assert.equal(free[0]!.blockStart, a!.offset - Size.BlockHeader);
    assert.equal(free[0]!.blockSize, sizes[0]! + sizes[1]! + sizes[2]!);
    guard.free();
    assertEmpty(pool);
  });
});

Deno.test("resize", async (t) => {
  await t.step("shrinking keeps the offset and the contents up to the new length", () => {
    const pool = Pool.create(4 * KIB);
    const block = filled(pool, 1000, 5);
    const guard = must(pool.allocate(8));
    const offset = block.offset;
    const used = pool.bytesUsed();
    assert.ok(pool.resize(block, 100));
    assert.equal(block.offset, offset);
    assert.equal(block.length, 100);
    assert.equal(block.u8.length, 100);
    assertBlock(block, 5);
    assert.ok(pool.bytesUsed() < used);
    pool.check();
    // The tail went back to the pool: it can be allocated again.
    const tail = must(pool.allocate(800));
    assert.ok(tail.offset > block.offset && tail.offset < guard.offset);
  });

  await t.step("growing into a free next block keeps the offset", () => {
    const pool = Pool.create(4 * KIB);
    const block = filled(pool, 100, 6);
    const next = must(pool.allocate(500));
    const guard = must(pool.allocate(8));
    next.free();
    const offset = block.offset;
    assert.ok(pool.resize(block, 400));
    assert.equal(block.offset, offset);
    assert.equal(block.length, 400);
    assertBlock(block, 6, 100);
    assert.ok(guard.live);
    pool.check();
    assert.equal(walk(pool).freeBlocks, 2, "the rest of the next block stayed free");
  });

  await t.step("a large block that must move goes where it can keep growing", () => {
    const pool = Pool.create(KIB * KIB);
    // Small enough to be carved from the low end, where `small` walls it in.
    const buffer = filled(pool, 60 * KIB, 11);
    const small = filled(pool, 50, 12);
    const poolEnd = pool.byteOffset + pool.byteLength - Size.Sentinel;
    // Walled in by `small`: it moves to the far end of the free space.
    assert.ok(pool.resize(buffer, 140 * KIB));
    assert.equal(buffer.offset + pool.sizeOf(buffer.offset), poolEnd);
    assertBlock(buffer, 11, 60 * KIB);
    // The low end of that free space still serves small requests.
    const later = filled(pool, 50, 13);
    assert.ok(later.offset < small.offset + 1000);
    pool.check();
    // Growing again, it grows down into the free space before it: its end stays put.
    assert.ok(pool.resize(buffer, 300 * KIB));
    assert.equal(buffer.offset + pool.sizeOf(buffer.offset), poolEnd);
    assertBlock(buffer, 11, 60 * KIB);
    assertBlock(small, 12);
    assertBlock(later, 13);
    pool.check();
    assert.equal(pool.bytesUsed() + pool.bytesFree() + pool.stats().metadataBytes, pool.byteLength);
  });

  await t.step("growing into the top block keeps the offset", () => {
    const pool = Pool.create(4 * KIB);
    const block = filled(pool, 100, 7);
    const offset = block.offset;
    assert.ok(pool.resize(block, 3 * KIB));
    assert.equal(block.offset, offset);
    assertBlock(block, 7, 100);
    pool.check();
  });

  await t.step("growing past a used neighbour moves the block and keeps its contents", () => {
    const pool = Pool.create(8 * KIB);
    const block = filled(pool, 300, 8);
    const neighbour = filled(pool, 50, 9);
    const { offset, u8, f64 } = block;
    assert.ok(pool.resize(block, 2 * KIB));
    assert.notEqual(block.offset, offset);
    assert.equal(block.length, 2 * KIB);
    assertBlock(block, 8, 300);
    assertBlock(neighbour, 9);
    assert.ok(block.live);
    // The same handle, with views made anew for the new place and length.
    assert.notEqual(block.u8, u8);
    assert.notEqual(block.f64, f64);
    assert.equal(block.u8.length, 2 * KIB);
    assert.equal(block.u8.byteOffset, block.offset);
    assert.equal(block.f64.length, 2 * KIB / 8);
    assert.equal(block.u8, block.u8);
    assert.equal(block.f64, block.f64);
    const free = [...pool.blocks()].filter((info) => info.free);
    assert.equal(free[0]!.offset, offset, "the old place is free");
    pool.check();
  });

  await t.step("shrinking a moved-and-grown block keeps the smaller length's contents", () => {
    const pool = Pool.create(8 * KIB);
    const block = filled(pool, 2 * KIB, 10);
    must(pool.allocate(8));
    assert.ok(pool.resize(block, 3 * KIB));
    assertBlock(block, 10, 2 * KIB);
    assert.ok(pool.resize(block, 10));
    assertBlock(block, 10);
    pool.check();
  });

  await t.step("growing into the free block before it when nothing else fits", () => {
    const pool = Pool.create(4 * KIB);
    const before = must(pool.allocate(200));
    const block = filled(pool, 40, 11);
    const after = must(pool.allocate(8));
    must(pool.allocate(pool.largestFreeBlock()));
    before.free();
    assert.ok(pool.resize(block, 230));
    assert.equal(block.offset, before.offset);
    assertBlock(block, 11, 40);
    pool.check();
    after.free();
    assert.ok(pool.resize(block, 260));
    assertBlock(block, 11, 40);
    pool.check();
  });

  await t.step("a block slides into free blocks on both sides when nothing else fits", () => {
    const pool = Pool.create(4 * KIB);
    const before = must(pool.allocate(200));
    const block = filled(pool, 40, 12);
    const after = must(pool.allocate(8));
    must(pool.allocate(8));
    must(pool.allocate(pool.largestFreeBlock()));
    before.free();
    after.free();
    assert.ok(pool.resize(block, 250));
    assert.equal(block.offset, before.offset);
    assertBlock(block, 12, 40);
    pool.check();
    assert.equal(pool.bytesFree(), walk(pool).bytesFree);
  });

  await t.step("returns false and changes nothing when the pool cannot hold the new length", () => {
    const pool = Pool.create(4 * KIB);
    const block = filled(pool, 100, 13);
    must(pool.allocate(8));
    const { u8, f64, offset } = block;
    const before = snapshot(pool);
    for (const length of [pool.largestFreeBlock() + 1, pool.byteLength, 2 ** 53 - 1]) {
      assert.equal(pool.resize(block, length), false, `length ${length}`);
      assert.equal(block.offset, offset);
      assert.equal(block.length, 100);
      assert.equal(block.u8, u8);
      assert.equal(block.f64, f64);
      assertBlock(block, 13);
      assert.deepEqual(snapshot(pool), before);
      pool.check();
    }
  });

  await t.step("an aligned block stays aligned after moving", () => {
    const pool = Pool.create(16 * KIB);
    for (const align of [16, 64, 256, 1024]) {
      const block = filled(pool, 100, align, align);
      // The gap in front of an aligned block may take small blocks: fill it until one lands after.
      const neighbours = [];
      do neighbours.push(must(pool.allocate(8))); while (neighbours.at(-1)!.offset < block.offset);
      const offset = block.offset;
      assert.ok(pool.resize(block, 1000 + align));
      assert.notEqual(block.offset, offset);
      assert.equal(block.offset % align, 0, `align ${align}`);
      assert.equal(block.align, align);
      assertBlock(block, align, 100);
      pool.check();
      block.free();
      for (const neighbour of neighbours) neighbour.free();
    }
  });

  await t.step("to 0 and to the same length both work", () => {
    const pool = Pool.create(4 * KIB);
    const block = filled(pool, 64, 14);
    const offset = block.offset;
    assert.ok(pool.resize(block, 64));
    assert.equal(block.offset, offset);
    assertBlock(block, 14);
    assert.ok(pool.resize(block, 0));
    assert.equal(block.length, 0);
    assert.equal(block.u8.length, 0);
    block.free();
    assertEmpty(pool);
    assert.equal(pool.stats().allocations, 1);
  });
});

Deno.test("raw alloc, free and sizeOf", async (t) => {
  await t.step("alloc gives 8-byte aligned offsets, never 0, even for a pool at byte 0", () => {
    const pool = Pool.create(4 * KIB);
    assert.equal(pool.byteOffset, 0);
    const offsets = [0, 1, 8, 100].map((size) => pool.alloc(size));
    for (const offset of offsets) {
      assert.notEqual(offset, 0);
      assert.equal(offset % Size.Align, 0);
    }
    assert.equal(new Set(offsets).size, offsets.length);
    assert.equal(pool.stats().liveBlocks, offsets.length);
    pool.check();
  });

  await t.step("alloc honours align", () => {
    const pool = Pool.create(16 * KIB);
    for (let align = 1; align <= 4096; align *= 2) {
      pool.alloc(1);
      const offset = pool.alloc(24, align);
      assert.notEqual(offset, 0);
      assert.equal(offset % Math.max(align, Size.Align), 0, `align ${align}`);
    }
    pool.check();
  });

  await t.step("sizeOf is at least the requested size and is the block's payload", () => {
    const pool = new Pool(new ArrayBuffer(4 * KIB), { byteOffset: 40 });
    for (const size of [0, 1, 11, 12, 13, 24, 25, 1000]) {
      const offset = pool.alloc(size);
      const capacity = pool.sizeOf(offset);
      assert.ok(capacity >= size, `size ${size}`);
      const info = [...pool.blocks()].find((b) => b.offset === offset);
      assert.equal(info?.blockSize, capacity + Size.BlockHeader);
      assert.equal(info?.free, false);
    }
  });

  await t.step("free gives the bytes back and merges", () => {
    const pool = Pool.create(4 * KIB);
    const offsets = [10, 20, 30, 40].map((size) => pool.alloc(size));
    for (const offset of [offsets[1]!, offsets[3]!, offsets[0]!, offsets[2]!]) pool.free(offset);
    assertEmpty(pool);
    assert.equal(pool.stats().frees, 4);
  });

  await t.step("alloc returns 0 when nothing fits and counts the failure", () => {
    const pool = Pool.create(4 * KIB);
    const before = pool.stats();
    assert.equal(pool.alloc(pool.byteLength), 0);
    assert.equal(pool.alloc(pool.largestFreeBlock() + 1), 0);
    assert.equal(pool.alloc(2 ** 53 - 1, 64), 0);
    assert.deepEqual(pool.stats(), { ...before, failedAllocations: 3 });
    assert.notEqual(pool.alloc(pool.largestFreeBlock()), 0);
  });
});

Deno.test("bytesUsed, bytesFree and largestFreeBlock", async (t) => {
  await t.step("bytesUsed + bytesFree + metadataBytes is byteLength after every operation", () => {
    const pool = new Pool(new ArrayBuffer(16 * KIB), { byteOffset: 5, byteLength: 12 * KIB });
    const { metadataBytes } = pool.stats();
    const assertSum = () => {
      assert.equal(pool.bytesUsed() + pool.bytesFree() + metadataBytes, pool.byteLength);
      const layout = walk(pool);
      assert.equal(pool.bytesUsed(), layout.bytesUsed);
      assert.equal(pool.bytesFree(), layout.bytesFree);
      assert.equal(pool.largestFreeBlock(), largestPayload(layout));
    };
    assertSum();
    const blocks = [];
    for (let i = 0; i < 30; i++) {
      blocks.push(must(pool.allocate((i * 53) % 400, { align: i % 5 === 0 ? 64 : 8 })));
      assertSum();
    }
    for (let i = 0; i < blocks.length; i += 4) {
      assert.ok(pool.resize(blocks[i]!, (i * 29) % 700));
      assertSum();
    }
    for (let i = 1; i < blocks.length; i += 2) {
      blocks[i]!.free();
      assertSum();
    }
    const raw = pool.alloc(77);
    assertSum();
    pool.free(raw);
    assertSum();
  });

  await t.step("the largest free block stays known when a freed block merges with it", () => {
    const pool = Pool.create(64 * KIB);
    const words = new Uint32Array(pool.buffer);
    const [a, b] = [1000, 3000, 1000].map((size) => pool.alloc(size));
    const [first, second] = [...pool.blocks()];
    pool.free(b!);
    assert.equal(words[HeaderWord.Largest], second!.blockSize);
    // Merging takes the largest free block out of its bin; the merged block is bigger still.
    pool.free(a!);
    assert.equal(words[HeaderWord.Largest], first!.blockSize + second!.blockSize);
    assert.equal(pool.largestFreeBlock(), [...pool.blocks()].at(-1)!.blockSize - Size.BlockHeader);
    pool.check();
  });

  await t.step("a top block as big as the largest taken from the bins answers at once", () => {
    const pool = Pool.create(64 * KIB);
    const words = new Uint32Array(pool.buffer);
    const [, b] = [1000, 3000, 1000].map((size) => pool.alloc(size));
    pool.free(b!);
    pool.alloc(2000);
    const bound = words[HeaderWord.Largest]!;
    assert.equal(bound & Value.LargestStale, Value.LargestStale);
    const top = [...pool.blocks()].at(-1)!;
    assert.ok(top.free && top.blockSize >= bound);
    assert.equal(pool.largestFreeBlock(), top.blockSize - Size.BlockHeader);
    // Answered without walking the bins, which would have made the size exact again.
    assert.equal(words[HeaderWord.Largest], bound);
    pool.check();
  });

  await t.step("a free block of 2 GiB or more is known as the largest", () => {
    // Untouched pages of a buffer cost no memory: only headers are written.
    const pool = Pool.create(3 * 2 ** 30);
    // Large blocks are carved from the high end: a used block on each side keeps this one
    // from becoming the top block or merging once freed.
    assert.notEqual(pool.alloc(2 ** 17), 0);
    const big = pool.alloc(2 ** 31 + 2 ** 20);
    assert.notEqual(big, 0);
    assert.notEqual(pool.alloc(2 ** 17), 0);
    const payload = pool.sizeOf(big);
    // Known exactly before the free, so that the free must update it.
    assert.ok(pool.largestFreeBlock() < 2 ** 31);
    pool.free(big);
    const free = [...pool.blocks()].filter((info) => info.free).map((info) => info.blockSize);
    assert.deepEqual(free.filter((size) => size >= 2 ** 31), [payload + Size.BlockHeader]);
    assert.equal(pool.largestFreeBlock(), payload);
    pool.check();
  });

  await t.step("bytesUsed counts each block whole, header and padding included", () => {
    const pool = Pool.create(4 * KIB);
    const block = must(pool.allocate(32));
    const [info] = [...pool.blocks()];
    assert.equal(info!.offset, block.offset);
    assert.equal(pool.bytesUsed(), info!.blockSize);
    assert.ok(info!.blockSize >= 32 + Size.BlockHeader);
  });
});

Deno.test("stats", async (t) => {
  await t.step("counts allocations, frees, failures and the peak of bytesUsed", () => {
    const pool = Pool.create(8 * KIB);
    const a = must(pool.allocate(1000));
    const b = must(pool.allocate(2000));
    const peak = pool.bytesUsed();
    a.free();
    const c = pool.alloc(10);
    assert.equal(pool.allocate(pool.byteLength), null);
    assert.equal(pool.alloc(pool.byteLength), 0);
    const stats = pool.stats();
    assert.equal(stats.allocations, 3);
    assert.equal(stats.frees, 1);
    assert.equal(stats.failedAllocations, 2);
    assert.equal(stats.liveBlocks, 2);
    assert.equal(stats.peakBytesUsed, peak);
    assert.ok(stats.bytesUsed < peak);
    b.free();
    pool.free(c);
    assert.equal(pool.stats().peakBytesUsed, peak, "the peak stays after frees");
    assert.equal(pool.stats().frees, 3);
  });

  await t.step("the peak follows growth by resize, in place and by moving", () => {
    const pool = Pool.create(8 * KIB);
    const block = must(pool.allocate(100));
    assert.ok(pool.resize(block, 1000));
    assert.equal(pool.stats().peakBytesUsed, pool.bytesUsed());
    must(pool.allocate(8));
    assert.ok(pool.resize(block, 3000));
    assert.equal(pool.stats().peakBytesUsed, pool.bytesUsed());
  });

  await t.step("capacity and metadataBytes describe the pool's range", () => {
    const pool = new Pool(new ArrayBuffer(8 * KIB), { byteOffset: 8, byteLength: 6 * KIB });
    const stats = pool.stats();
    assert.equal(stats.capacity, 6 * KIB);
    const tiled = [...pool.blocks()].reduce((sum, info) => sum + info.blockSize, 0);
    assert.equal(stats.metadataBytes, stats.capacity - tiled);
    assert.ok(stats.metadataBytes > 0);
  });

  await t.step("freeBlocks counts every free block, the top block included", () => {
    const pool = Pool.create(8 * KIB);
    const blocks = [];
    for (let i = 0; i < 10; i++) blocks.push(must(pool.allocate(64)));
    for (let i = 0; i < 10; i += 2) blocks[i]!.free();
    assert.equal(pool.stats().freeBlocks, 6);
    assert.equal(pool.stats().freeBlocks, walk(pool).freeBlocks);
  });

  await t.step("fragmentation is 1 - largest free block / free bytes", () => {
    const pool = Pool.create(8 * KIB);
    const blocks = [];
    for (let i = 0; i < 20; i++) blocks.push(must(pool.allocate(100 + i * 10)));
    must(pool.allocate(pool.largestFreeBlock()));
    for (let i = 0; i < 20; i += 2) blocks[i]!.free();
    const layout = walk(pool);
    const { fragmentation } = pool.stats();
    assert.equal(fragmentation, 1 - layout.largestFree / layout.bytesFree);
    assert.ok(fragmentation > 0 && fragmentation < 1);
  });

  await t.step("is a snapshot, not a live object", () => {
    const pool = Pool.create(4 * KIB);
    const stats = pool.stats();
    const copy = { ...stats };
    pool.allocate(10);
    assert.deepEqual(stats, copy);
    assert.notEqual(pool.stats(), stats);
  });
});

Deno.test("blocks() lists every block in address order, tiling the pool", () => {
  const pool = new Pool(new ArrayBuffer(8 * KIB), { byteOffset: 3 });
  const blocks = [];
  for (let i = 0; i < 12; i++) blocks.push(must(pool.allocate(i * 20, { align: 16 << (i % 3) })));
  for (let i = 0; i < 12; i += 3) blocks[i]!.free();
  const infos = [...pool.blocks()];
  const { metadataBytes } = pool.stats();
  assert.equal(infos[0]!.blockStart, pool.byteOffset + metadataBytes - Size.Sentinel);
  for (let i = 1; i < infos.length; i++) {
    assert.equal(infos[i]!.blockStart, infos[i - 1]!.blockStart + infos[i - 1]!.blockSize);
  }
  const last = infos.at(-1)!;
  assert.equal(last.blockStart + last.blockSize, pool.byteOffset + pool.byteLength - Size.Sentinel);
  const usedOffsets = infos.filter((info) => !info.free).map((info) => info.offset);
  const liveOffsets = blocks.filter((b) => b.live).map((b) => b.offset).sort((a, b) => a - b);
  assert.deepEqual(usedOffsets, liveOffsets);
  for (const info of infos) assert.equal(info.offset, info.blockStart + Size.BlockHeader);
});

Deno.test("check()", async (t) => {
  /** A pool with used blocks, binned free blocks and a top block. */
  function busyPool(): { pool: Pool; words: Uint32Array; a: Block; b: Block; c: Block } {
    const pool = new Pool(new ArrayBuffer(8 * KIB), { byteOffset: 16 });
    const [a, b, c] = [100, 200, 300].map((size) => must(pool.allocate(size)));
    must(pool.allocate(8));
    b!.free();
    pool.check();
    return { pool, words: new Uint32Array(pool.buffer), a: a!, b: b!, c: c! };
  }
  const corrupt = (e: unknown) => e instanceof PoolError && e.code === "corrupt";
  const headerWord = (offset: number) => (offset - Size.BlockHeader) / Size.Word;

  await t.step("passes on healthy pools after every kind of operation", () => {
    const pool = Pool.create(32 * KIB);
    pool.check();
    const blocks = [];
    for (let i = 0; i < 20; i++) {
      blocks.push(must(pool.allocate(i * 30, { align: i % 4 === 0 ? 128 : 8 })));
      pool.check();
    }
    for (let i = 0; i < 20; i += 3) {
      assert.ok(pool.resize(blocks[i]!, i * 45));
      pool.check();
    }
    for (const block of blocks.reverse()) {
      block.free();
      pool.check();
    }
  });

  await t.step("throws corrupt when a used block's size is overwritten", () => {
    const { pool, words, a } = busyPool();
    words[headerWord(a.offset)]! += Size.Align;
    assert.throws(() => pool.check(), corrupt);
  });

  await t.step("throws corrupt when a used block is marked free", () => {
    const { pool, words, c } = busyPool();
    words[headerWord(c.offset)]! |= Flag.Free;
    assert.throws(() => pool.check(), corrupt);
  });

  await t.step("throws corrupt when a free block's header is zeroed", () => {
    const { pool, words, b } = busyPool();
    words[headerWord(b.offset)] = 0;
    assert.throws(() => pool.check(), corrupt);
  });

  await t.step("throws corrupt when a free block's footer is overwritten", () => {
    const { pool, words, b } = busyPool();
    const info = [...pool.blocks()].find((i) => i.blockStart === b.offset - Size.BlockHeader)!;
    assert.ok(info.free);
    words[(info.blockStart + info.blockSize - Size.Word) / Size.Word]! += Size.Align;
    assert.throws(() => pool.check(), corrupt);
  });

  await t.step(
    "throws corrupt when the pool header's magic, version or a counter is overwritten",
    () => {
      const first = busyPool();
      const header = first.pool.byteOffset / Size.Word;
      assert.equal(first.words[header + HeaderWord.Magic], Value.Magic);
      assert.equal(first.words[header + HeaderWord.Version], Value.Version);
      first.words[header + HeaderWord.Magic] = 0;
      assert.throws(() => first.pool.check(), corrupt);
      const versioned = busyPool();
      versioned.words[header + HeaderWord.Version]! += 1;
      assert.throws(() => versioned.pool.check(), corrupt);
      const second = busyPool();
      second.words[second.pool.byteOffset / Size.Word + HeaderWord.FreeBlocks]! += 1;
      assert.throws(() => second.pool.check(), corrupt);
    },
  );
});

Deno.test("every range from the smallest pool up can be made a pool", () => {
  const smallest = smallestPoolBytes();
  assert.throws(() => Pool.create(smallest - Size.Align), RangeError);
  for (let bytes = smallest; bytes < 70_000; bytes += Size.Align) {
    const pool = Pool.create(bytes);
    const largest = pool.largestFreeBlock();
    assert.ok(largest >= Size.MinPayload, `a ${bytes}-byte pool holds a smallest block`);
    assert.notEqual(pool.allocate(largest), null);
    assert.equal(pool.bytesFree(), 0);
  }
});

Deno.test("an aligned request takes a small hole that can hold it", () => {
  const pool = Pool.create(4096);
  const hole = pool.allocate(100)!;
  pool.allocate(8);
  const holeStart = hole.offset;
  hole.free();
  const aligned = pool.allocate(8, { align: 16 })!;
  assert.equal(aligned.offset % 16, 0);
  assert.ok(aligned.offset >= holeStart && aligned.offset < holeStart + 100, "placed in the hole");
  pool.check();
});

Deno.test("raw realloc", async (t) => {
  await t.step("grows in place when the next block is free, keeping the offset", () => {
    const pool = Pool.create(4096);
    const offset = pool.alloc(16);
    assert.equal(pool.realloc(offset, 400), offset);
    assert.ok(pool.sizeOf(offset) >= 400);
    pool.check();
  });

  await t.step("moves a hemmed-in block, keeping its bytes and its alignment", () => {
    const pool = Pool.create(8192);
    const offset = pool.alloc(24, 64);
    // Small blocks fill the gap the alignment left before it, then one lands after it.
    while (pool.alloc(8) < offset);
    new Uint8Array(pool.buffer, offset, 24).fill(7);
    const moved = pool.realloc(offset, 1000, 64);
    assert.notEqual(moved, offset);
    assert.equal(moved % 64, 0);
    assert.ok(new Uint8Array(pool.buffer, moved, 24).every((byte) => byte === 7));
    pool.check();
  });

  await t.step("shrinks in place and gives the rest back", () => {
    const pool = Pool.create(4096);
    const offset = pool.alloc(1000);
    pool.alloc(8);
    const free = pool.bytesFree();
    assert.equal(pool.realloc(offset, 100), offset);
    assert.ok(pool.bytesFree() > free);
    pool.check();
  });

  await t.step("returns 0 and changes nothing when the pool cannot hold the size", () => {
    const pool = Pool.create(4096);
    const offset = pool.alloc(100);
    const before = pool.stats();
    assert.equal(pool.realloc(offset, 1 << 20), 0);
    assert.deepEqual(pool.stats(), before);
    assert.equal(pool.sizeOf(offset) >= 100, true);
  });
});
