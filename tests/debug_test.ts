import assert from "node:assert/strict";
import { Pool, PoolError } from "../mod.ts";
import { Oracle } from "../tools/_oracle.ts";
import { OpGenerator, type OpMix, Rng } from "../tools/_random_ops.ts";

const POOL_BYTES = 64 * 1024;
/** A byte that is neither the guard nor the poison pattern. */
const STRAY = 0x41;
/** The methods debug mode wraps, on a prototype of the pool's own. */
const WRAPPED = [
  "allocate",
  "deallocate",
  "resize",
  "realloc",
  "alloc",
  "free",
  "sizeOf",
  "largestFreeBlock",
  "check",
  "leaks",
];

function debugPool(bytes = POOL_BYTES): Pool {
  return new Pool(new ArrayBuffer(bytes), { debug: true });
}

function poke(pool: Pool, offset: number): void {
  new Uint8Array(pool.buffer)[offset] = STRAY;
}

/** Asserts that `fn` throws a `PoolError` with `code` whose message matches every pattern. */
function assertPoolError(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof PoolError, `${error} is a PoolError`);
    assert.equal(error.code, code, error.message);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

/** A frame of this file, as the allocation and free sites in messages show it. */
const HERE = /at .*debug_test\.ts:\d+:\d+/;

function overflowMessage(what: RegExp, size: number, offset: number, past: number): RegExp[] {
  return [
    what,
    new RegExp(
      `the pool found that the ${size}-byte block at offset ${offset} was written past its end: offset ${
        offset + size + past - 1
      } \\(byte ${past} past the end\\) holds 0x41, not the guard 0xfd\\. The block was allocated at `,
    ),
    new RegExp(`allocated ${HERE.source}\\)?\\.$`),
  ];
}

function afterFreeMessage(what: RegExp, size: number, offset: number, byte: number): RegExp[] {
  return [
    what,
    new RegExp(
      `the pool found that the ${size}-byte block at offset ${offset} was written after it was freed: offset ${
        offset + byte
      } \\(byte ${byte} of its payload\\) holds 0x41, not the poison 0xdd\\.`,
    ),
    new RegExp(`allocated ${HERE.source}\\)? and freed ${HERE.source}\\)?\\.$`),
  ];
}

Deno.test("debug mode catches a write after free", async (t) => {
  await t.step("when an allocation needs the memory back", () => {
    const pool = debugPool();
    const block = pool.allocate(100)!;
    const offset = block.offset;
    block.free();
    poke(pool, offset + 10);
    const size = pool.largestFreeBlock();
    assertPoolError(
      () => pool.allocate(size),
      "write-after-free",
      ...afterFreeMessage(new RegExp(`^While trying to allocate ${size} bytes, `), 100, offset, 10),
    );
    // The damaged block was released all the same, so the pool works on.
    pool.check();
    assert.notEqual(pool.allocate(size), null);
  });

  await t.step("when the quarantine is full and releases its oldest block (raw API)", () => {
    const pool = debugPool();
    const offset = pool.alloc(40);
    pool.free(offset);
    poke(pool, offset + 39);
    let last = 0;
    assertPoolError(
      () => {
        for (let i = 0; i < POOL_BYTES; i++) {
          last = pool.alloc(1000);
          pool.free(last);
        }
      },
      "write-after-free",
      ...afterFreeMessage(/^While trying to free offset \d+, /, 40, offset, 39),
    );
    assert.notEqual(last, offset);
    pool.check();
  });

  await t.step("by check(), while the block waits in quarantine", () => {
    const pool = debugPool();
    const offset = pool.alloc(24);
    const kept = pool.allocate(8)!;
    pool.free(offset);
    pool.check();
    poke(pool, offset);
    assertPoolError(
      () => pool.check(),
      "write-after-free",
      ...afterFreeMessage(/^In check\(\), /, 24, offset, 0),
    );
    assert.ok(kept.live);
  });
});

Deno.test("debug mode catches a write past the end of a block", async (t) => {
  const size = 13;
  for (const past of [1, 8]) {
    await t.step(`${past} byte(s) past the end, at Block.free`, () => {
      const pool = debugPool();
      const block = pool.allocate(size)!;
      poke(pool, block.offset + size + past - 1);
      assertPoolError(
        () => block.free(),
        "overflow",
        ...overflowMessage(
          new RegExp(`^While trying to deallocate the block at offset ${block.offset}, `),
          size,
          block.offset,
          past,
        ),
      );
      // A refused free changes nothing: the block is still allocated.
      assert.ok(block.live);
      assert.deepEqual(pool.leaks().map((leak) => leak.offset), [block.offset]);
    });

    await t.step(`${past} byte(s) past the end, at deallocate`, () => {
      const pool = debugPool();
      const block = pool.allocate(size, { align: 64 })!;
      poke(pool, block.offset + size + past - 1);
      assertPoolError(
        () => pool.deallocate(block),
        "overflow",
        ...overflowMessage(
          /^While trying to deallocate the block at offset/,
          size,
          block.offset,
          past,
        ),
      );
    });

    await t.step(`${past} byte(s) past the end, at free`, () => {
      const pool = debugPool();
      const offset = pool.alloc(size);
      poke(pool, offset + size + past - 1);
      assertPoolError(
        () => pool.free(offset),
        "overflow",
        ...overflowMessage(
          new RegExp(`^While trying to free offset ${offset}, `),
          size,
          offset,
          past,
        ),
      );
    });

    await t.step(`${past} byte(s) past the end, at resize`, () => {
      const pool = debugPool();
      const block = pool.allocate(size)!;
      poke(pool, block.offset + size + past - 1);
      assertPoolError(
        () => pool.resize(block, 1000),
        "overflow",
        ...overflowMessage(/^While trying to resize the block at offset/, size, block.offset, past),
      );
      assert.equal(block.length, size);
    });

    await t.step(`${past} byte(s) past the end, at realloc`, () => {
      const pool = debugPool();
      const offset = pool.alloc(size);
      poke(pool, offset + size + past - 1);
      assertPoolError(
        () => pool.realloc(offset, 1000),
        "overflow",
        ...overflowMessage(
          new RegExp(`^While trying to realloc offset ${offset}, `),
          size,
          offset,
          past,
        ),
      );
      assert.equal(pool.sizeOf(offset), size);
    });

    await t.step(`${past} byte(s) past the end, at check()`, () => {
      const pool = debugPool();
      pool.allocate(100);
      const offset = pool.alloc(size, 16);
      pool.check();
      poke(pool, offset + size + past - 1);
      assertPoolError(
        () => pool.check(),
        "overflow",
        ...overflowMessage(/^In check\(\), /, size, offset, past),
      );
    });
  }

  await t.step("but not a write inside it, up to its very last byte", () => {
    const pool = debugPool();
    const block = pool.allocate(size)!;
    block.u8.fill(STRAY);
    const offset = pool.alloc(size);
    new Uint8Array(pool.buffer, offset, size).fill(STRAY);
    pool.check();
    pool.free(offset);
    block.free();
    pool.check();
  });

  await t.step("after a resize, at the block's new end", () => {
    const pool = debugPool();
    const block = pool.allocate(size)!;
    const other = pool.allocate(8)!;
    assert.ok(pool.resize(block, 300));
    assert.notEqual(block.offset, other.offset);
    assert.equal(block.length, 300);
    block.u8.fill(STRAY);
    pool.check();
    poke(pool, block.offset + 300);
    assertPoolError(
      () => pool.check(),
      "overflow",
      ...overflowMessage(/^In check\(\), /, 300, block.offset, 1),
    );
  });
});

Deno.test("leaks() lists the live blocks, largest first, with their allocation sites", () => {
  const pool = debugPool();
  const small = pool.allocate(10)!;
  const large = pool.alloc(1000);
  const freed = pool.allocate(5000)!;
  const middle = pool.allocate(200)!;
  let tie = pool.alloc(100);
  freed.free();
  tie = pool.realloc(tie, 200);
  assert.ok(pool.resize(middle, 300));
  const leaks = pool.leaks();
  assert.deepEqual(
    leaks.map(({ offset, size }) => ({ offset, size })),
    [
      { offset: large, size: 1000 },
      { offset: middle.offset, size: 300 },
      { offset: tie, size: 200 },
      { offset: small.offset, size: 10 },
    ],
  );
  for (const leak of leaks) {
    // The allocator's own frames are left out: the first frame is the caller's.
    assert.match(leak.stack.split("\n")[0]!, HERE);
    assert.doesNotMatch(leak.stack, /src\/(debug|pool|block)\.ts/);
  }
  // A resized block keeps the site that allocated it; each block has its own line.
  const line = (stack: string) => Number(/debug_test\.ts:(\d+)/.exec(stack)![1]);
  assert.deepEqual(
    leaks.map((leak) => line(leak.stack) - line(leaks[3]!.stack)),
    [1, 3, 4, 0],
  );
  pool.free(large);
  pool.free(tie);
  small.free();
  middle.free();
  assert.deepEqual(pool.leaks(), []);
});

Deno.test("leaks() on a pool without debug mode throws no-debug", () => {
  const pool = Pool.create(4096);
  assertPoolError(() => pool.leaks(), "no-debug", /without \{ debug: true \}/);
});

Deno.test("debug mode off leaves the pool as the class makes it; on, a prototype of its own wraps the methods", () => {
  for (const pool of [Pool.create(4096), new Pool(new ArrayBuffer(4096), { debug: false })]) {
    const own = Object.getOwnPropertyNames(pool);
    assert.deepEqual(own.filter((name) => WRAPPED.includes(name)), []);
    assert.equal(Object.getPrototypeOf(pool), Pool.prototype);
  }
  const debug = debugPool(4096);
  assert.deepEqual(Object.getOwnPropertyNames(debug), []);
  const wrappers = Object.getPrototypeOf(debug);
  assert.deepEqual(Object.getOwnPropertyNames(wrappers).sort(), [...WRAPPED].sort());
  assert.equal(Object.getPrototypeOf(wrappers), Pool.prototype);
  assert.notEqual(Object.getPrototypeOf(debugPool(4096)), wrappers, "each pool has its own");
  assert.ok(debug instanceof Pool);
});

Deno.test("a debug pool reports the requested size and keeps misuse errors", async (t) => {
  await t.step("sizeOf and Block.length are the requested size, without the guard", () => {
    const pool = debugPool();
    const offset = pool.alloc(13);
    assert.equal(pool.sizeOf(offset), 13);
    const block = pool.allocate(13, { zero: true })!;
    assert.equal(block.length, 13);
    assert.equal(block.u8.length, 13);
    assert.ok(block.u8.every((byte) => byte === 0));
    assert.equal(pool.sizeOf(block.offset), 13);
  });

  await t.step("a second free of a quarantined block is a double free", () => {
    const pool = debugPool();
    const offset = pool.alloc(13);
    pool.free(offset);
    assertPoolError(
      () => pool.free(offset),
      "double-free",
      /^Cannot free offset \d+: it was freed/,
    );
    assertPoolError(() => pool.sizeOf(offset), "double-free", /^Cannot sizeOf offset/);
    assertPoolError(() => pool.realloc(offset, 8), "double-free", /^Cannot realloc offset/);
    const block = pool.allocate(13)!;
    // A Block's block is freed through the Block only.
    assertPoolError(() => pool.free(block.offset), "invalid-offset", /payload of a Block/);
    block.free();
    assertPoolError(
      () => pool.free(block.offset),
      "double-free",
      /^Cannot free offset \d+: it was freed/,
    );
    assertPoolError(
      () => block.free(),
      "double-free",
      /^Cannot deallocate the block at offset \d+: it was freed already\.$/,
    );
    assertPoolError(() => pool.resize(block, 5), "double-free", /^Cannot resize the block/);
    const freed = pool.allocate(13)!;
    freed.free();
    assertPoolError(() => freed.free(), "double-free", /it was freed already/);
  });

  await t.step(
    "an offset that is no block is an invalid offset; a foreign block is refused",
    () => {
      const pool = debugPool();
      const offset = pool.alloc(64);
      assertPoolError(
        () => pool.free(offset + 8),
        "invalid-offset",
        /^Cannot free offset \d+: it is/,
      );
      assert.throws(() => pool.free("x" as unknown as number), TypeError);
      assert.throws(() => pool.alloc(-1), RangeError);
      assert.throws(() => pool.allocate(8, { align: 3 }), RangeError);
      const other = debugPool(4096).allocate(8)!;
      assertPoolError(() => pool.deallocate(other), "foreign-block");
      assertPoolError(() => pool.resize(other, 9), "foreign-block");
    },
  );

  await t.step("the counters add up, and largestFreeBlock() is what allocate can get", () => {
    const pool = debugPool(16 * 1024);
    const blocks = Array.from({ length: 6 }, () => pool.allocate(1000)!);
    // Freeing neighbours leaves them in quarantine, counted as used.
    blocks[1]!.free();
    blocks[2]!.free();
    const { bytesUsed, bytesFree, metadataBytes, liveBlocks } = pool.stats();
    assert.equal(liveBlocks, 6);
    assert.equal(bytesUsed + bytesFree + metadataBytes, pool.byteLength);
    assert.equal(pool.bytesUsed(), bytesUsed);
    const largest = pool.largestFreeBlock();
    assert.equal(pool.stats().largestFreeBlock, largest);
    assert.equal(pool.allocate(largest + 1), null);
    // The failed request released the quarantine; the largest size now fits.
    assert.equal(pool.stats().liveBlocks, 4);
    assert.equal(pool.largestFreeBlock(), largest);
    assert.notEqual(pool.allocate(largest), null);
    pool.check();
  });

  await t.step("a block larger than the quarantine's bound is released at once", () => {
    const pool = debugPool(8 * 1024);
    const big = pool.largestFreeBlock();
    for (let i = 0; i < 3; i++) {
      const offset = pool.alloc(big);
      assert.notEqual(offset, 0, `round ${i}`);
      pool.free(offset);
      assert.equal(pool.stats().liveBlocks, 0);
    }
  });

  for (const api of ["resize", "realloc"]) {
    await t.step(`a ${api} that only fits once the quarantine is released succeeds`, () => {
      const pool = debugPool();
      const block = pool.allocate(16)!;
      const offset = pool.alloc(16);
      const rest: number[] = [];
      for (let next = pool.alloc(1000); next !== 0; next = pool.alloc(1000)) rest.push(next);
      // The blocks after the one that grows wait in quarantine, less than an eighth of the pool.
      const first = rest.findIndex((at) => at > (api === "resize" ? block.offset : offset));
      for (const at of rest.slice(first, first + 6)) pool.free(at);
      const live = pool.stats().liveBlocks;
      if (api === "resize") {
        assert.ok(pool.resize(block, 5000));
        assert.equal(pool.sizeOf(block.offset), 5000);
      } else {
        assert.equal(pool.sizeOf(pool.realloc(offset, 5000)), 5000);
      }
      assert.equal(pool.stats().liveBlocks, live - 6);
      pool.check();
    });
  }
});

/** Debug mode's mix: sizes mostly small (the cube of a uniform draw), every operation. */
const DEBUG_MIX: OpMix = {
  weights: {
    allocate: 25,
    alloc: 15,
    allocateLargest: 10,
    resize: 10,
    realloc: 10,
    deallocate: 15,
    free: 15,
    sizeOf: 5,
  },
  sizes: [[(rng) => Math.floor(rng.float() ** 3 * 4096), 1]],
  aligns: [[() => undefined, 7], [() => 64, 3]],
  zeroShare: 0.3,
  askLargestShare: 1,
  targetLive: 12,
};

Deno.test("a debug pool agrees with the shared model through random operations", () => {
  for (const seed of [1, 7, 99]) {
    const rng = new Rng(seed);
    const generator = new OpGenerator(rng, DEBUG_MIX);
    // Debug expectations: sizes as asked, leaks() as the live set, guards counted.
    const model = new Oracle(debugPool(32 * 1024), { debug: true, rng });
    for (let step = 0; step < 300; step++) {
      model.step = step;
      model.apply(generator.next(model.state()));
      model.verify();
    }
    // The run did allocate, free and move blocks, not just fail.
    assert.ok(model.allocations > 100 && model.frees > 50, `seed ${seed}`);
    model.freeAll(rng);
    assert.deepEqual(model.pool.leaks(), [], `seed ${seed}`);
    model.pool.check();
  }
});
