// The default pool is module state, and Deno runs a file's tests in order:
// the test of the state before any initPool must stay first in this file.

import assert from "node:assert/strict";
import {
  allocate,
  type Block,
  bytesFree,
  bytesUsed,
  deallocate,
  initPool,
  largestFreeBlock,
  Pool,
  PoolError,
} from "../mod.ts";
import { Size } from "../src/engine/tlsf.ts";
import { smallestPoolBytes, walk } from "./_model.ts";

const noPool = (e: unknown) => e instanceof PoolError && e.code === "no-pool";

Deno.test("before initPool every module function throws PoolError no-pool", () => {
  const block = Pool.create(4096).allocate(8)!;
  const calls: [string, () => unknown][] = [
    ["allocate", () => allocate(8)],
    ["allocate with options", () => allocate(8, { align: 64, zero: true })],
    ["deallocate", () => deallocate(block)],
    ["bytesUsed", () => bytesUsed()],
    ["bytesFree", () => bytesFree()],
    ["largestFreeBlock", () => largestFreeBlock()],
  ];
  for (const [name, call] of calls) assert.throws(call, noPool, name);
  assert.ok(block.live, "deallocate touched nothing");

  // A failed initPool does not make a default pool either.
  assert.throws(() => initPool(new Uint8Array(4096) as unknown as ArrayBuffer), TypeError);
  assert.throws(() => initPool(new ArrayBuffer(smallestPoolBytes() - Size.Align)), RangeError);
  assert.throws(() => initPool(new ArrayBuffer(4096), 4097), RangeError);
  for (const [name, call] of calls) assert.throws(call, noPool, `${name} after a failed initPool`);
});

Deno.test("allocate(32) takes one whole block from bytesFree, and deallocate gives it back", () => {
  const pool = initPool(new ArrayBuffer(4096));
  const start = { used: bytesUsed(), free: bytesFree(), largest: largestFreeBlock() };
  const stats = pool.stats();
  assert.equal(start.used, 0);

  const block = allocate(32)!;
  assert.ok(block !== null);
  assert.equal(block.length, 32);
  const whole = walk(pool).used[0]!.size;
  assert.ok(whole >= 32 + Size.BlockHeader);
  assert.equal(bytesFree(), start.free - whole);
  assert.equal(bytesUsed(), whole);

  deallocate(block);
  assert.equal(block.live, false);
  assert.deepEqual(
    { used: bytesUsed(), free: bytesFree(), largest: largestFreeBlock() },
    start,
  );
  assert.deepEqual(pool.stats(), {
    ...stats,
    allocations: 1,
    frees: 1,
    peakBytesUsed: whole,
  });
  pool.check();
});

Deno.test("the module functions act on the pool initPool returned", () => {
  const buffer = new ArrayBuffer(8192);
  const pool = initPool(buffer);
  assert.ok(pool instanceof Pool);
  assert.equal(pool.buffer, buffer);
  assert.equal(pool.byteLength, buffer.byteLength);

  const blocks: Block[] = [];
  for (let i = 0; i < 5; i++) blocks.push(allocate(100 * i)!);
  const aligned = allocate(10, { align: 256, zero: true })!;
  assert.equal(aligned.offset % 256, 0);
  assert.ok(aligned.u8.every((byte) => byte === 0));
  assert.equal(aligned.pool, pool);
  blocks[2]!.free();
  deallocate(blocks[3]!);

  assert.equal(bytesUsed(), pool.bytesUsed());
  assert.equal(bytesFree(), pool.bytesFree());
  assert.equal(largestFreeBlock(), pool.largestFreeBlock());
  assert.equal(pool.stats().liveBlocks, 4);
  assert.notEqual(allocate(largestFreeBlock()), null);
  assert.equal(allocate(largestFreeBlock() + 1), null);
  pool.check();
});

Deno.test("initPool with a byteLength manages only that many bytes from the start", () => {
  const buffer = new ArrayBuffer(8192);
  const pool = initPool(buffer, 4096);
  assert.equal(pool.byteOffset, 0);
  assert.equal(pool.byteLength, 4096);
  assert.equal(bytesUsed() + bytesFree() + pool.stats().metadataBytes, 4096);
  assert.equal(allocate(4096), null);
});

Deno.test("a second initPool replaces the default pool", () => {
  const first = initPool(new ArrayBuffer(4096));
  const old = allocate(64)!;
  const second = initPool(new ArrayBuffer(8192));
  assert.notEqual(second, first);
  assert.equal(bytesUsed(), 0);
  assert.equal(bytesFree(), second.bytesFree());
  assert.throws(() => deallocate(old), (e) => e instanceof PoolError && e.code === "foreign-block");
  assert.ok(old.live);
  assert.equal(allocate(16)!.pool, second);
  assert.equal(first.stats().liveBlocks, 1);
});

Deno.test("module functions reject bad arguments as the Pool methods do", () => {
  const pool = initPool(new ArrayBuffer(4096));
  const before = pool.stats();
  assert.throws(() => allocate(-1), RangeError);
  assert.throws(() => allocate("8" as unknown as number), TypeError);
  assert.throws(() => allocate(8, { align: 12 }), RangeError);
  assert.throws(() => deallocate({} as Block), TypeError);
  const block = allocate(8)!;
  const whole = pool.sizeOf(block.offset) + Size.BlockHeader;
  deallocate(block);
  assert.throws(() => deallocate(block), (e) => e instanceof PoolError && e.code === "double-free");
  assert.deepEqual(pool.stats(), { ...before, allocations: 1, frees: 1, peakBytesUsed: whole });
  pool.check();
});
