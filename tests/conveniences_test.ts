// What users of any runtime expect of a handle and a pool: `using`, inspect,
// toJSON, cached views, a throwing allocate, options checked by name.

import assert from "node:assert/strict";
import vm from "node:vm";
import { Block, heapMap, Pool, PoolError } from "../mod.ts";
import { analyzeTrace, minimumPoolSize, parseTrace, recordTrace, replayTrace } from "../trace.ts";
import { Size } from "../src/engine/tlsf.ts";
import { snapshot } from "./_model.ts";

/** Matches a PoolError with `code` whose message matches `message`. */
function poolError(code: string, message: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof PoolError && e.code === code && message.test(e.message);
}

/** Asserts that `fn` throws as `matches` says and leaves the pool as it was. */
function assertRefused(pool: Pool, fn: () => unknown, matches: (e: unknown) => boolean): void {
  const before = snapshot(pool);
  assert.throws(fn, matches);
  assert.deepEqual(snapshot(pool), before);
}

Deno.test("using frees a block at the end of its scope", () => {
  const pool = Pool.create(4096);
  let kept: Block;
  {
    using block = pool.allocateOrThrow(64);
    kept = block;
    assert.equal(pool.stats().liveBlocks, 1);
  }
  assert.equal(kept.live, false);
  assert.equal(pool.bytesUsed(), 0);
  pool.check();
});

Deno.test("dispose after an explicit free does nothing; freeing twice otherwise throws", () => {
  const pool = Pool.create(4096);
  const other = pool.allocateOrThrow(32);
  {
    using block = pool.allocateOrThrow(64);
    block.free();
    assert.throws(() => block.free(), poolError("double-free", /freed already/));
    // A new block may take the freed one's place: disposing must not free it.
    const again = pool.allocateOrThrow(64);
    assert.equal(again.offset, block.offset);
    again.free();
  }
  assert.equal(pool.stats().liveBlocks, 1);
  assert.equal(other.live, true);
  other[Symbol.dispose]();
  assert.equal(pool.bytesUsed(), 0);
});

Deno.test("a block shows its offset, length and liveness; a pool its sizes", () => {
  const pool = Pool.create(4096);
  const block = pool.allocateOrThrow(100);
  assert.equal(
    Deno.inspect(block),
    `Block { offset: ${block.offset}, length: 100, live: true }`,
  );
  assert.deepEqual(JSON.parse(JSON.stringify(block)), {
    offset: block.offset,
    length: 100,
    align: 8,
    live: true,
  });
  const shown = Deno.inspect(pool);
  assert.equal(
    shown,
    `Pool { byteLength: 4096, bytesUsed: 112, bytesFree: ${pool.bytesFree()}, largestFreeBlock: ${pool.largestFreeBlock()} }`,
  );
  assert.deepEqual(JSON.parse(JSON.stringify(pool)), {
    byteLength: 4096,
    bytesUsed: 112,
    bytesFree: pool.bytesFree(),
    largestFreeBlock: pool.largestFreeBlock(),
  });
  block.free();
  assert.match(Deno.inspect(block), /live: false/);
  assert.match(Deno.inspect({ nested: pool }), /nested: Pool \{ byteLength: 4096, bytesUsed: 0,/);
});

Deno.test("inspecting a pool whose memory grew (its buffer detached) does not throw", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const pool = new Pool(memory.buffer);
  memory.grow(1);
  assert.equal(Deno.inspect(pool), "Pool { detached: true }");
  assert.deepEqual(pool.toJSON(), { detached: true });
});

Deno.test("view() returns the same object for the last two constructors, until the block moves", () => {
  const pool = Pool.create(1 << 16);
  const block = pool.allocateOrThrow(64);
  const f32 = block.view(Float32Array);
  assert.equal(f32.length, 16);
  assert.equal(block.view(Float32Array), f32);
  const i32 = block.view(Int32Array);
  assert.equal(block.view(Float32Array), f32);
  assert.equal(block.view(Int32Array), i32);
  // A third constructor pushes out the one used least recently (Int32Array here,
  // as Float32Array was asked for after it).
  block.view(Float32Array);
  const u16 = block.view(Uint16Array);
  assert.equal(block.view(Float32Array), f32);
  assert.notEqual(block.view(Int32Array), i32);
  assert.notEqual(block.view(Uint16Array), u16);
  // u8 and f64 are their own cache.
  assert.equal(block.view(Uint8Array), block.u8);
  assert.equal(block.view(Float64Array), block.f64);

  f32[0] = 1.5;
  assert.ok(pool.resize(block, 4096));
  const moved = block.view(Float32Array);
  assert.notEqual(moved, f32);
  assert.equal(moved.length, 1024);
  assert.equal(moved.byteOffset, block.offset);
  assert.equal(moved[0], 1.5);

  block.free();
  assert.throws(() => block.view(Float32Array), poolError("use-after-free", /view\(\)/));
  assert.throws(() => block.view(Int32Array), poolError("use-after-free", /view\(\)/));
});

Deno.test("view() still refuses what is not a typed-array constructor, cache or not", () => {
  const block = Pool.create(4096).allocateOrThrow(64);
  for (const bad of [undefined, null, 4, {}, Array]) {
    assert.throws(
      () => block.view(bad as unknown as Float32ArrayConstructor),
      (e) => e instanceof TypeError && /typed-array constructor/.test(e.message),
    );
  }
  block.view(Float32Array);
  assert.throws(() => block.view(undefined as unknown as Float32ArrayConstructor), TypeError);
});

Deno.test("allocateOrThrow and allocOrThrow say the size, bytes free and largest block", () => {
  const pool = Pool.create(4096);
  const block = pool.allocateOrThrow(1000, { align: 64, zero: true });
  assert.equal(block.offset % 64, 0);
  const free = pool.bytesFree();
  const largest = pool.largestFreeBlock();
  const message = new RegExp(
    `^Cannot allocate 100000 bytes: the pool has ${free} bytes free, and its largest free block holds ${largest}\\.$`,
  );
  const blocks = [...pool.blocks()];
  assert.throws(() => pool.allocateOrThrow(100_000), poolError("out-of-memory", message));
  assert.throws(() => pool.allocOrThrow(100_000), poolError("out-of-memory", message));
  // Counted as failed allocations, as a null from allocate is; nothing else changed.
  assert.equal(pool.stats().failedAllocations, 2);
  assert.deepEqual([...pool.blocks()], blocks);
  assertRefused(pool, () => pool.allocateOrThrow(-1), (e) => e instanceof RangeError);
  const offset = pool.allocOrThrow(24, 16);
  assert.equal(offset % 16, 0);
  pool.free(offset);
  block.free();
  assert.equal(pool.bytesUsed(), 0);
});

Deno.test("a debug pool's allocateOrThrow allows for its guard and quarantine", () => {
  const pool = Pool.create(4096, { debug: true });
  const largest = pool.largestFreeBlock();
  pool.allocateOrThrow(largest).free();
  assert.throws(() => pool.allocateOrThrow(largest + 1), poolError("out-of-memory", /Cannot/));
  assert.equal(pool.leaks().length, 0);
});

Deno.test("Pool.create passes its options on", () => {
  const debug = Pool.create(4096, { debug: true });
  debug.allocateOrThrow(10);
  assert.equal(debug.leaks().length, 1);
  const ranged = Pool.create(8192, { byteOffset: 1024, byteLength: 4096 });
  assert.equal(ranged.byteOffset, 1024);
  assert.equal(ranged.byteLength, 4096);
  assert.throws(() => Pool.create(4096).leaks(), poolError("no-debug", /debug/));
});

Deno.test("every options bag refuses a key it does not know, naming it", async () => {
  const unknown = (key: string) => (e: unknown) =>
    e instanceof TypeError && e.message.includes(`unknown option "${key}"`);
  assert.throws(() => new Pool(new ArrayBuffer(4096), { debg: true } as never), unknown("debg"));
  assert.throws(() => Pool.create(4096, { byteoffset: 8 } as never), unknown("byteoffset"));
  assert.throws(() => new Pool(new ArrayBuffer(4096), { debug: 1 } as never), TypeError);
  assert.throws(() => new Pool(new ArrayBuffer(4096), 5 as never), TypeError);
  const pool = Pool.create(4096);
  assertRefused(pool, () => pool.allocate(8, { alignment: 64 } as never), unknown("alignment"));
  const typeError = (e: unknown) => e instanceof TypeError;
  assertRefused(pool, () => pool.allocate(8, { zero: "yes" } as never), typeError);
  assertRefused(pool, () => pool.allocate(8, null as never), typeError);
  const debug = Pool.create(4096, { debug: true });
  assertRefused(debug, () => debug.allocate(8, { aling: 16 } as never), unknown("aling"));
  assert.throws(() => heapMap(pool, { colour: true } as never), unknown("colour"));
  const trace = await parseTrace("a 0 8\nf 0\n");
  assert.throws(() => replayTrace(trace, pool, { limt: 1 } as never), unknown("limt"));
  assert.throws(() => minimumPoolSize(trace, { tolerence: 0 } as never), unknown("tolerence"));
  assert.throws(() => analyzeTrace(trace, { timings: false } as never), unknown("timings"));
  assert.throws(() => recordTrace(pool, { descripton: "x" } as never), unknown("descripton"));
  await assert.rejects(parseTrace("", { file: "x" } as never), unknown("file"));
  // Known keys set to undefined are fine, as they are left out.
  assert.ok(pool.allocate(8, { align: undefined, zero: undefined } as never));
});

Deno.test("allocate reads each option once: a getter that changes its answer gets no misaligned block", () => {
  for (const debug of [false, true]) {
    const pool = Pool.create(1 << 16, { debug });
    pool.allocateOrThrow(8);
    let reads = 0;
    const options = {
      get align() {
        return ++reads === 1 ? 4096 : 8;
      },
    };
    const block = pool.allocateOrThrow(100, options);
    assert.equal(reads, 1);
    assert.equal(block.align, 4096);
    assert.equal(block.offset % 4096, 0);
    pool.check();
  }
});

Deno.test("a BigInt size gets a TypeError naming the argument, and changes nothing", () => {
  for (const debug of [false, true]) {
    const pool = Pool.create(4096, { debug });
    const named = (e: unknown) =>
      e instanceof TypeError && /^size must be a number, but got bigint 8\.$/.test(e.message);
    assertRefused(pool, () => pool.alloc(8n as never), named);
    assertRefused(pool, () => pool.allocate(8n as never), named);
    assertRefused(pool, () => pool.allocateOrThrow(8n as never), named);
    assertRefused(pool, () => pool.alloc(8n as never, 16), named);
  }
});

Deno.test("a buffer from another realm is accepted; a look-alike is not", () => {
  const foreign = vm.runInNewContext("new ArrayBuffer(4096)") as ArrayBuffer;
  assert.ok(!(foreign instanceof ArrayBuffer));
  const pool = new Pool(foreign);
  const block = pool.allocateOrThrow(64);
  block.f64[0] = 2;
  assert.equal(new Float64Array(foreign, block.offset, 1)[0], 2);
  pool.check();
  const fake = { byteLength: 4096, [Symbol.toStringTag]: "ArrayBuffer" };
  assert.throws(
    () => new Pool(fake as never),
    (e) => e instanceof TypeError && /but got an Object\.$/.test(e.message),
  );
  assert.throws(
    () => new Pool(new Uint8Array(64) as never),
    (e) => e instanceof TypeError && /but got a Uint8Array\.$/.test(e.message),
  );
  assert.throws(
    () => pool.deallocate(new ArrayBuffer(8) as never),
    (e) => e instanceof TypeError && /but got an ArrayBuffer\.$/.test(e.message),
  );
});

Deno.test("blocks() names its fields as Block does: offset and length of the payload", () => {
  const pool = Pool.create(4096);
  const block = pool.allocateOrThrow(13);
  const [info] = pool.blocks();
  assert.equal(info!.offset, block.offset);
  assert.equal(info!.length, pool.sizeOf(block.offset));
  assert.equal(info!.blockStart, block.offset - Size.BlockHeader);
  assert.equal(info!.blockSize, info!.length + Size.BlockHeader);
  assert.equal(info!.free, false);
});
