import assert from "node:assert/strict";
import { Block, Pool, PoolError, type PoolErrorCode } from "../mod.ts";
import { Size } from "../src/engine/tlsf.ts";
import { smallestPoolBytes, snapshot } from "./_model.ts";

const BAD_SIZES: [unknown, ErrorConstructor][] = [
  [-1, RangeError],
  [1.5, RangeError],
  [NaN, RangeError],
  [Infinity, RangeError],
  [-Infinity, RangeError],
  [2 ** 53, RangeError],
  ["8", TypeError],
  [8n, TypeError],
  [null, TypeError],
  [undefined, TypeError],
];

const BAD_ALIGNS: [unknown, ErrorConstructor][] = [
  [0, RangeError],
  [3, RangeError],
  [-8, RangeError],
  [12, RangeError],
  [0.5, RangeError],
  [NaN, RangeError],
  [2 ** 32, RangeError],
  ["8", TypeError],
  [null, TypeError],
];

/** Matches a PoolError with `code`, and nothing else. */
function poolError(code: PoolErrorCode): (e: unknown) => boolean {
  return (e) => e instanceof PoolError && e.code === code;
}

/** Matches exactly the built-in `type` (a PoolError is neither TypeError nor RangeError). */
function builtIn(type: ErrorConstructor): (e: unknown) => boolean {
  return (e) => e instanceof type && !(e instanceof PoolError) && e.constructor === type;
}

/**
 * Asserts that `fn` throws what `matches` accepts and leaves the pool as it
 * was: `check()` passes and stats and blocks are as before the call.
 */
function assertRejected(
  pool: Pool,
  fn: () => unknown,
  matches: (e: unknown) => boolean,
  message?: string,
): void {
  const before = snapshot(pool);
  assert.throws(fn, matches, message);
  pool.check();
  assert.deepEqual(snapshot(pool), before);
}

interface Busy {
  pool: Pool;
  live: Block;
  freed: Block;
  raw: number;
  freedRaw: number;
  /** The last block, a handle. */
  last: Block;
}

/** A pool in some state: live and freed handles and raw blocks, binned free blocks, a top block. */
function busyPool(): Busy {
  const pool = new Pool(new ArrayBuffer(8192), { byteOffset: 24 });
  const live = pool.allocate(64)!;
  const freed = pool.allocate(100)!;
  const raw = pool.alloc(48);
  const freedRaw = pool.alloc(200);
  const last = pool.allocate(8)!;
  freed.free();
  pool.free(freedRaw);
  live.u8.fill(0);
  pool.check();
  return { pool, live, freed, raw, freedRaw, last };
}

Deno.test("a bad size is rejected with the matching error and changes nothing", async (t) => {
  for (const [size, type] of BAD_SIZES) {
    await t.step(
      `allocate, alloc, resize and realloc reject ${String(size)} with ${type.name}`,
      () => {
        const { pool, live, raw } = busyPool();
        assertRejected(pool, () => pool.realloc(raw, size as number), builtIn(type));
        assertRejected(pool, () => pool.allocate(size as number), builtIn(type));
        assertRejected(pool, () => pool.allocate(size as number, { zero: true }), builtIn(type));
        assertRejected(pool, () => pool.alloc(size as number), builtIn(type));
        assertRejected(pool, () => pool.alloc(size as number, 64), builtIn(type));
        const { offset, length } = live;
        assertRejected(pool, () => pool.resize(live, size as number), builtIn(type));
        assert.equal(live.offset, offset);
        assert.equal(live.length, length);
      },
    );
  }
});

Deno.test("a bad alignment is rejected with the matching error and changes nothing", async (t) => {
  for (const [align, type] of BAD_ALIGNS) {
    await t.step(
      `allocate, alloc and realloc reject align ${String(align)} with ${type.name}`,
      () => {
        const { pool, raw } = busyPool();
        assertRejected(pool, () => pool.realloc(raw, 8, align as number), builtIn(type));
        assertRejected(pool, () => pool.allocate(8, { align: align as number }), builtIn(type));
        assertRejected(pool, () => pool.alloc(8, align as number), builtIn(type));
      },
    );
  }
});

Deno.test("freeing twice throws double-free and changes nothing", async (t) => {
  await t.step("through the handle, the pool, and resize", () => {
    const { pool, freed } = busyPool();
    assertRejected(pool, () => freed.free(), poolError("double-free"));
    assertRejected(pool, () => pool.deallocate(freed), poolError("double-free"));
    assertRejected(pool, () => pool.resize(freed, 8), poolError("double-free"));
  });

  await t.step("through a raw offset, right after the free and after others merged it", () => {
    const { pool, live, last, raw, freedRaw } = busyPool();
    assertRejected(pool, () => pool.free(freedRaw), poolError("double-free"));
    assertRejected(pool, () => pool.sizeOf(freedRaw), poolError("double-free"));
    // The freed block's neighbours go too, so its header is inside a bigger free block now.
    live.free();
    last.free();
    pool.free(raw);
    assert.equal(pool.stats().liveBlocks, 0);
    assertRejected(pool, () => pool.free(freedRaw), poolError("double-free"));
  });

  await t.step("through the raw offset of a block freed through its handle", () => {
    const { pool, freed } = busyPool();
    assertRejected(pool, () => pool.free(freed.offset), poolError("double-free"));
  });
});

Deno.test("a block of another pool is rejected with foreign-block, and neither pool changes", () => {
  const { pool, live, freed } = busyPool();
  const other = busyPool();
  const otherBefore = snapshot(other.pool);
  assertRejected(pool, () => pool.deallocate(other.live), poolError("foreign-block"));
  assertRejected(pool, () => pool.resize(other.live, 8), poolError("foreign-block"));
  assertRejected(pool, () => pool.deallocate(other.freed), poolError("foreign-block"));
  assertRejected(other.pool, () => other.pool.deallocate(live), poolError("foreign-block"));
  assertRejected(other.pool, () => other.pool.deallocate(freed), poolError("foreign-block"));
  assert.deepEqual(snapshot(other.pool), { ...otherBefore });
  assert.ok(other.live.live);
  assert.ok(live.live);
});

Deno.test("deallocate and resize reject what is not a Block with TypeError", () => {
  const { pool, live } = busyPool();
  const fakes: unknown[] = [
    null,
    undefined,
    42,
    live.offset,
    "block",
    {},
    { offset: live.offset, length: live.length, pool, live: true, align: Size.Align },
    Object.create(Block.prototype),
  ];
  for (const fake of fakes) {
    assertRejected(pool, () => pool.deallocate(fake as Block), builtIn(TypeError));
    assertRejected(pool, () => pool.resize(fake as Block, 8), builtIn(TypeError));
  }
  assert.ok(live.live);
});

Deno.test("a freed block's views throw use-after-free", () => {
  const { pool, live } = busyPool();
  const u8 = live.u8;
  live.free();
  assertRejected(pool, () => live.u8, poolError("use-after-free"));
  assertRejected(pool, () => live.f64, poolError("use-after-free"));
  assertRejected(pool, () => live.view(Int32Array), poolError("use-after-free"));
  assertRejected(pool, () => live.view(BigInt64Array), poolError("use-after-free"));
  // A view taken before the free is the caller's; the block only stops handing out new ones.
  assert.equal(u8.length, 64);
});

Deno.test("view() rejects what is not a typed-array constructor with TypeError", () => {
  const { pool, live } = busyPool();
  const notConstructors: unknown[] = [null, undefined, 4, {}, Number, DataView, "Int32Array"];
  for (const ctor of notConstructors) {
    assertRejected(pool, () => live.view(ctor as Int32ArrayConstructor), builtIn(TypeError));
  }
});

Deno.test("raw free, sizeOf and realloc reject an offset that is not a live block's payload", async (t) => {
  await t.step("outside the pool or in its metadata: invalid-offset", () => {
    const { pool } = busyPool();
    const outside = [
      0,
      -Size.Align,
      pool.byteOffset,
      pool.byteOffset + Size.Align,
      pool.byteOffset + pool.byteLength,
      pool.byteOffset + pool.byteLength - Size.Sentinel + Size.BlockHeader,
      pool.buffer.byteLength + Size.Align,
      2 ** 40,
      NaN,
      Infinity,
    ];
    for (const offset of outside) {
      assertRejected(pool, () => pool.free(offset), poolError("invalid-offset"));
      assertRejected(pool, () => pool.sizeOf(offset), poolError("invalid-offset"));
      assertRejected(pool, () => pool.realloc(offset, 8), poolError("invalid-offset"));
    }
  });

  await t.step("freed already: double-free, for realloc as for free", () => {
    const { pool } = busyPool();
    const offset = pool.alloc(40);
    pool.alloc(8);
    pool.free(offset);
    assertRejected(pool, () => pool.realloc(offset, 80), poolError("double-free"));
  });

  await t.step("misaligned: invalid-offset", () => {
    const { pool, raw, live } = busyPool();
    for (const offset of [raw + 1, raw - 1, raw + Size.Word, raw + 0.5, live.offset + 2]) {
      assertRejected(pool, () => pool.free(offset), poolError("invalid-offset"));
      assertRejected(pool, () => pool.sizeOf(offset), poolError("invalid-offset"));
      assertRejected(pool, () => pool.realloc(offset, 8), poolError("invalid-offset"));
    }
  });

  await t.step("inside a zeroed payload: invalid-offset", () => {
    const { pool, live } = busyPool();
    for (let offset = live.offset + Size.Align; offset < live.offset + live.length; offset += 8) {
      assertRejected(pool, () => pool.free(offset), poolError("invalid-offset"));
      assertRejected(pool, () => pool.sizeOf(offset), poolError("invalid-offset"));
      assertRejected(pool, () => pool.realloc(offset, 8), poolError("invalid-offset"));
    }
  });

  await t.step("not a number, even one that converts to a live offset: TypeError", () => {
    const { pool, raw } = busyPool();
    const notNumbers: [string, unknown][] = [
      ["null", null],
      ["undefined", undefined],
      ["a bigint", BigInt(raw)],
      ["a numeric string", String(raw)],
      ["an object with valueOf", { valueOf: () => raw }],
    ];
    for (const [what, offset] of notNumbers) {
      assertRejected(pool, () => pool.free(offset as number), builtIn(TypeError), `free(${what})`);
      assertRejected(
        pool,
        () => pool.realloc(offset as number, 8),
        builtIn(TypeError),
        `realloc(${what})`,
      );
      assertRejected(
        pool,
        () => pool.sizeOf(offset as number),
        builtIn(TypeError),
        `sizeOf(${what})`,
      );
    }
  });
});

Deno.test("new Pool rejects a bad buffer or range", async (t) => {
  await t.step("what is not a buffer or a WebAssembly.Memory: TypeError", () => {
    const notBuffers: unknown[] = [
      null,
      undefined,
      4096,
      "buffer",
      {},
      { byteLength: 4096 },
      new Uint8Array(4096),
      new DataView(new ArrayBuffer(4096)),
    ];
    for (const buffer of notBuffers) {
      assert.throws(() => new Pool(buffer as ArrayBuffer), builtIn(TypeError));
    }
  });

  await t.step("a range too small for the metadata and one block: RangeError", () => {
    for (const length of [0, 1, Size.MinBlock, 100, 200]) {
      assert.throws(() => new Pool(new ArrayBuffer(length)), builtIn(RangeError), `${length}`);
    }
    // Rounding inward can make a range that looked big enough too small.
    const n = smallestPoolBytes();
    const buffer = new ArrayBuffer(n + 2 * Size.Align);
    assert.equal(new Pool(buffer, { byteOffset: 1, byteLength: n + Size.Align - 1 }).byteLength, n);
    assert.throws(() => new Pool(buffer, { byteOffset: 1, byteLength: n }), builtIn(RangeError));
    assert.throws(() => new Pool(buffer, { byteLength: n - 1 }), builtIn(RangeError));
  });

  await t.step(
    "byteOffset or byteLength out of the buffer or not whole numbers: RangeError",
    () => {
      const buffer = new ArrayBuffer(4096);
      const ranges = [
        { byteOffset: 4097 },
        { byteOffset: -8 },
        { byteOffset: 1.5 },
        { byteOffset: NaN },
        { byteLength: 4097 },
        { byteLength: -1 },
        { byteLength: 2 ** 53 },
        { byteOffset: 8, byteLength: 4089 },
        { byteOffset: 4096, byteLength: 8 },
      ];
      for (const range of ranges) {
        assert.throws(() => new Pool(buffer, range), builtIn(RangeError), JSON.stringify(range));
      }
    },
  );

  await t.step("byteOffset or byteLength not numbers: TypeError", () => {
    const buffer = new ArrayBuffer(4096);
    assert.throws(() => new Pool(buffer, { byteOffset: "8" as unknown as number }), TypeError);
    assert.throws(() => new Pool(buffer, { byteLength: "8" as unknown as number }), TypeError);
  });

  await t.step("Pool.create rejects bad lengths", () => {
    assert.throws(() => Pool.create(-1), builtIn(RangeError));
    assert.throws(() => Pool.create(1.5), builtIn(RangeError));
    assert.throws(() => Pool.create(0), builtIn(RangeError));
    assert.throws(() => Pool.create(2 ** 32 + Size.Align), builtIn(RangeError));
    assert.throws(() => Pool.create("4096" as unknown as number), builtIn(TypeError));
  });
});

Deno.test("a pool whose buffer was detached throws detached from every call", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const pool = new Pool(memory.buffer);
  const offset = pool.alloc(100);
  const block = pool.allocate(50)!;
  memory.grow(1);
  const calls: [string, () => unknown][] = [
    ["alloc", () => pool.alloc(100)],
    ["allocate", () => pool.allocate(10)],
    ["free", () => pool.free(offset)],
    ["sizeOf", () => pool.sizeOf(offset)],
    ["deallocate", () => pool.deallocate(block)],
    ["resize", () => pool.resize(block, 10)],
    ["bytesUsed", () => pool.bytesUsed()],
    ["bytesFree", () => pool.bytesFree()],
    ["largestFreeBlock", () => pool.largestFreeBlock()],
    ["stats", () => pool.stats()],
    ["blocks", () => [...pool.blocks()]],
    ["check", () => pool.check()],
  ];
  for (const [name, call] of calls) {
    assert.throws(
      call,
      (e) => e instanceof PoolError && e.code === "detached" && /detached/.test(e.message),
      name,
    );
  }
  assert.ok(block.live, "a failed deallocate leaves the handle live");
});
