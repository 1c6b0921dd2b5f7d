import assert from "node:assert/strict";
import { type Block, Pool, PoolError } from "../mod.ts";
import { metadataBytes, rowsFor } from "../src/engine/tlsf.ts";
import { random as seeded } from "./_random.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const PAGE = 65536;

const code = (expected: string) => (error: unknown) =>
  error instanceof PoolError && error.code === expected;

/** A resizable buffer of `length` bytes that may grow to `max`. */
function resizable(length: number, max: number): ArrayBuffer {
  return new ArrayBuffer(length, { maxByteLength: max });
}

/**
 * A module, written out byte by byte, that imports its memory and exports
 * `grow(pages)`, `load(ptr)` and `store(ptr, value)` (float64s):
 *
 * ```wat
 * (module
 *   (import "env" "memory" (memory 0))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func (export "load") (param i32) (result f64) (f64.load (local.get 0)))
 *   (func (export "store") (param i32 f64) (f64.store (local.get 0) (local.get 1))))
 * ```
 */
// deno-fmt-ignore
const GROW_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x10, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f, // types: (i32) -> i32,
  0x60, 0x01, 0x7f, 0x01, 0x7c, 0x60, 0x02, 0x7f, 0x7c, 0x00, // (i32) -> f64, (i32, f64) -> ()
  0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, // imports: "env"
  0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00, // "memory", at least 0 pages
  0x03, 0x04, 0x03, 0x00, 0x01, 0x02, // functions of types 0, 1, 2
  0x07, 0x17, 0x03, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, // exports: "grow",
  0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x01, // "load",
  0x05, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x02, // "store"
  0x0a, 0x1a, 0x03, // code: three bodies
  0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, // memory.grow(local 0)
  0x07, 0x00, 0x20, 0x00, 0x2b, 0x03, 0x00, 0x0b, // f64.load(local 0)
  0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x39, 0x03, 0x00, 0x0b, // f64.store(local 0, local 1)
]);

interface GrowModule {
  grow(pages: number): number;
  load(ptr: number): number;
  store(ptr: number, value: number): void;
}

async function growModule(memory: WebAssembly.Memory): Promise<GrowModule> {
  const { instance } = await WebAssembly.instantiate(GROW_MODULE, { env: { memory } });
  return instance.exports as unknown as GrowModule;
}

/**
 * A random workload over `pool`: allocations, frees and resizes, every
 * block's bytes checked before it is freed or resized.
 */
function churn(pool: Pool, steps: number, seed: number, maxSize: number): Map<Block, number> {
  const random = seeded(seed);
  const live = new Map<Block, number>();
  for (let i = 0; i < steps; i++) {
    const choice = random();
    if (live.size > 0 && choice < 0.5) {
      const [block, fill] = [...live][Math.floor(random() * live.size)]!;
      assert.ok(block.u8.every((byte) => byte === fill), `block at ${block.offset} kept its bytes`);
      if (choice < 0.35) {
        block.free();
        live.delete(block);
      } else {
        assert.ok(pool.resize(block, Math.floor(random() * 2 * maxSize)), `step ${i}: resized`);
        block.u8.fill(fill);
      }
      continue;
    }
    const block = pool.allocate(Math.floor(random() * maxSize));
    assert.ok(block !== null, `step ${i}: the pool grows rather than fail`);
    const fill = i & 0xff;
    block.u8.fill(fill);
    live.set(block, fill);
  }
  return live;
}

Deno.test("a pool over a resizable ArrayBuffer grows when full", async (t) => {
  await t.step("by doubling, its stats following the capacity, contents kept", () => {
    const buffer = resizable(8 * KIB, 64 * MIB);
    const pool = new Pool(buffer);
    const lengths = new Set<number>();
    const live = new Map<Block, number>();
    for (let seed = 1; seed <= 4; seed++) {
      for (const [block, fill] of churn(pool, 2000, seed, 3000)) live.set(block, fill);
      lengths.add(buffer.byteLength);
      pool.check();
    }
    for (const [block, fill] of live) assert.ok(block.u8.every((byte) => byte === fill));
    assert.equal(pool.byteLength, buffer.byteLength);
    const stats = pool.stats();
    assert.equal(stats.capacity, buffer.byteLength);
    assert.equal(stats.bytesUsed + stats.bytesFree + stats.metadataBytes, stats.capacity);
    assert.equal(stats.failedAllocations, 0);
    // Every length is the first times a power of two.
    for (const length of lengths) assert.equal(Math.log2(length / (8 * KIB)) % 1, 0, `${length}`);
    assert.ok(buffer.byteLength > 8 * KIB);
  });

  await t.step("by the growFactor it is given, at least as far as the allocation needs", () => {
    const buffer = resizable(64 * KIB, 64 * MIB);
    const pool = new Pool(buffer, { growFactor: 1.5 });
    const fill = pool.allocate(pool.largestFreeBlock())!;
    assert.ok(pool.allocate(100) !== null);
    assert.equal(buffer.byteLength, 96 * KIB);
    assert.ok(pool.allocate(1 * MIB) !== null);
    assert.ok(buffer.byteLength > 1 * MIB && buffer.byteLength < 1.2 * MIB);
    fill.free();
    pool.check();
  });

  await t.step("an aligned allocation and a resize grow it too", () => {
    const buffer = resizable(8 * KIB, 16 * MIB);
    const pool = new Pool(buffer);
    const block = pool.allocate(20 * KIB, { align: 4096 })!;
    assert.equal(block.offset % 4096, 0);
    block.u8.fill(7);
    assert.ok(pool.resize(block, 200 * KIB));
    assert.ok(block.u8.subarray(0, 20 * KIB).every((byte) => byte === 7));
    const raw = pool.alloc(100);
    assert.ok(pool.realloc(raw, 2 * MIB) !== 0);
    pool.check();
  });

  await t.step("from an empty buffer: it grows to hold its metadata first", () => {
    const buffer = resizable(0, 16 * MIB);
    const pool = new Pool(buffer);
    assert.equal(pool.byteLength, metadataBytes(rowsFor(16 * MIB)) + 16);
    assert.equal(buffer.byteLength, pool.byteLength);
    assert.ok(pool.allocate(100_000) !== null);
    pool.check();
  });

  await t.step("null and 0 only at the ceiling, which is maxByteLength", () => {
    const buffer = resizable(8 * KIB, 16 * MIB);
    const pool = new Pool(buffer, { maxByteLength: 100 * KIB });
    const blocks: Block[] = [];
    for (let block; (block = pool.allocate(1000)) !== null;) blocks.push(block);
    assert.equal(buffer.byteLength, 100 * KIB);
    assert.equal(pool.alloc(1000), 0);
    assert.ok(pool.largestFreeBlock() < 1000);
    assert.equal(pool.stats().failedAllocations, 2);
    // 1000 bytes take blocks of 1008: as many as the ceiling holds.
    assert.equal(blocks.length, Math.floor((100 * KIB - pool.stats().metadataBytes) / 1008));
    // The buffer's own maximum is the default ceiling.
    const small = resizable(8 * KIB, 64 * KIB);
    const full = new Pool(small);
    assert.equal(full.allocate(64 * KIB), null);
    assert.ok(full.allocate(50 * KIB) !== null);
    // Just as far as it needed: a step of the factor would have been smaller.
    assert.ok(small.byteLength > 50 * KIB && small.byteLength < 52 * KIB);
    assert.ok(full.allocate(10 * KIB) !== null);
    assert.equal(small.byteLength, 64 * KIB);
    full.check();
  });

  await t.step("a range given a byteLength grows only if it ends at the buffer's end", () => {
    const buffer = resizable(64 * KIB, 16 * MIB);
    const inner = new Pool(buffer, { byteOffset: 8 * KIB, byteLength: 32 * KIB });
    assert.equal(inner.allocate(40 * KIB), null);
    assert.equal(buffer.byteLength, 64 * KIB);
    const last = new Pool(buffer, { byteOffset: 40 * KIB, byteLength: 24 * KIB });
    assert.ok(last.allocate(40 * KIB) !== null);
    assert.ok(buffer.byteLength > 64 * KIB);
    inner.check();
    last.check();
  });
});

Deno.test("a pool over a growable SharedArrayBuffer grows, and trim gives nothing back", () => {
  const buffer = new SharedArrayBuffer(8 * KIB, { maxByteLength: 16 * MIB });
  const pool = new Pool(buffer);
  const live = churn(pool, 3000, 9, 4000);
  assert.ok(buffer.byteLength > 8 * KIB);
  assert.equal(pool.byteLength, buffer.byteLength);
  for (const block of live.keys()) block.free();
  assert.equal(pool.trim(), 0);
  pool.check();
});

Deno.test("onOutOfMemory", async (t) => {
  await t.step("is called with the size and the pool when nothing can grow", () => {
    const calls: [number, Pool][] = [];
    const pool = new Pool(new ArrayBuffer(8 * KIB), {
      onOutOfMemory: (size, p) => {
        calls.push([size, p]);
        return false;
      },
    });
    assert.equal(pool.allocate(10 * KIB), null);
    assert.equal(pool.alloc(20 * KIB), 0);
    assert.deepEqual(calls, [[10 * KIB, pool], [20 * KIB, pool]]);
  });

  await t.step("may free blocks, and the allocation is retried once", () => {
    let calls = 0;
    const kept: Block[] = [];
    const pool = new Pool(new ArrayBuffer(16 * KIB), {
      onOutOfMemory: () => {
        calls++;
        kept.splice(0).forEach((block) => block.free());
        return true;
      },
    });
    for (let i = 0; i < 10; i++) kept.push(pool.allocate(1000)!);
    const big = pool.allocate(12 * KIB);
    assert.ok(big !== null);
    assert.equal(calls, 1);
    // Retried once: true without making room gives null after one call.
    assert.equal(pool.allocate(12 * KIB), null);
    assert.equal(calls, 2);
    assert.equal(pool.stats().failedAllocations, 1);
    pool.check();
  });

  await t.step("runs after growth reached the ceiling, and may grow the buffer itself", () => {
    const buffer = resizable(8 * KIB, 1 * MIB);
    let calls = 0;
    const pool = new Pool(buffer, {
      maxByteLength: 1 * MIB,
      onOutOfMemory: () => {
        calls++;
        return false;
      },
    });
    assert.ok(pool.allocate(500 * KIB) !== null);
    assert.equal(calls, 0);
    assert.equal(pool.allocate(600 * KIB), null);
    assert.equal(calls, 1);
    const fixed = new ArrayBuffer(8 * KIB, { maxByteLength: 1 * MIB });
    const own = new Pool(fixed, {
      growFactor: 1.25,
      maxByteLength: 1 * MIB,
      onOutOfMemory: () => false,
    });
    const grower = new Pool(resizable(4 * KIB, 1 * MIB), {
      maxByteLength: 4 * KIB,
      onOutOfMemory: (_size, p) => {
        (p.buffer as ArrayBuffer).resize(64 * KIB);
        return true;
      },
    });
    assert.equal(grower.allocate(64 * KIB), null, "past the pool's own ceiling");
    assert.ok(own.allocate(10 * KIB) !== null);
    grower.check();
  });

  await t.step("the bytes it adds to the buffer when growth failed are the pool's", () => {
    const buffer = resizable(8 * KIB, 1 * MIB);
    const pool = new Pool(buffer, {
      onOutOfMemory: (size) => {
        // As if the system had found memory again.
        delete (buffer as { resize?: unknown }).resize;
        buffer.resize(8 * KIB + size + 4 * KIB);
        return true;
      },
    });
    // The system refuses memory: the pool's own growth fails.
    Object.defineProperty(buffer, "resize", {
      configurable: true,
      value: () => {
        throw new RangeError("Out of memory");
      },
    });
    const block = pool.allocate(20 * KIB);
    assert.ok(block !== null);
    assert.equal(buffer.byteLength, 32 * KIB);
    assert.equal(pool.byteLength, buffer.byteLength);
    pool.check();
  });

  await t.step("what it throws reaches the caller, and the pool is as it was", () => {
    const pool = new Pool(new ArrayBuffer(8 * KIB), {
      onOutOfMemory: () => {
        throw new Error("no more");
      },
    });
    const block = pool.allocate(100)!;
    block.u8.fill(3);
    const raw = pool.alloc(100);
    const before = pool.stats();
    assert.throws(() => pool.allocate(10 * KIB), /no more/);
    assert.throws(() => pool.alloc(10 * KIB, 64), /no more/);
    assert.throws(() => pool.resize(block, 10 * KIB), /no more/);
    // Still the Block's: its failed resize left it marked as the handle's.
    assert.throws(() => pool.realloc(block.offset, 10), /payload of a Block/);
    assert.throws(() => pool.realloc(raw, 10 * KIB), /no more/);
    assert.deepEqual(pool.stats(), before);
    assert.equal(block.length, 100);
    assert.ok(block.u8.every((byte) => byte === 3));
    pool.check();
  });

  await t.step("an allocation inside it does not call it again", () => {
    let calls = 0;
    const pool = new Pool(new ArrayBuffer(8 * KIB), {
      onOutOfMemory: (size, p) => {
        calls++;
        assert.equal(p.allocate(size), null);
        return false;
      },
    });
    assert.equal(pool.allocate(10 * KIB), null);
    assert.equal(calls, 1);
  });
});

Deno.test("trim", async (t) => {
  await t.step("shrinks the buffer to the last used block plus keep, and returns the bytes", () => {
    const buffer = resizable(8 * KIB, 64 * MIB);
    const pool = new Pool(buffer, { byteOffset: 64 });
    const blocks = Array.from({ length: 200 }, (_, i) => {
      const block = pool.allocate(1000)!;
      block.u8.fill(i);
      return block;
    });
    const grown = buffer.byteLength;
    blocks.splice(100).forEach((block) => block.free());
    const lastEnd = Math.max(...blocks.map((b) => b.offset + pool.sizeOf(b.offset)));
    const given = pool.trim();
    assert.equal(given, grown - buffer.byteLength);
    assert.equal(buffer.byteLength, lastEnd + 8);
    assert.equal(pool.largestFreeBlock(), pool.stats().largestFreeBlock);
    assert.equal(pool.byteLength + 64, buffer.byteLength);
    blocks.forEach((block, i) => assert.ok(block.u8.every((byte) => byte === i)));
    pool.check();
    assert.equal(pool.trim(), 0);
    // keep rounds up to 8, and to a whole smallest block.
    blocks.splice(90).forEach((block) => block.free());
    const before = buffer.byteLength;
    assert.ok(pool.trim(1) > 0);
    const top = Math.max(...blocks.map((b) => b.offset + pool.sizeOf(b.offset)));
    assert.equal(buffer.byteLength, top + 16 + 8);
    assert.ok(buffer.byteLength < before);
    assert.ok(pool.allocate(8) !== null);
    assert.ok(pool.allocate(1 * MIB) !== null, "and it grows again");
    pool.check();
  });

  await t.step("gives nothing back where memory cannot shrink", () => {
    assert.equal(Pool.create(64 * KIB).trim(), 0);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const pool = new Pool(memory);
    pool.free(pool.alloc(200 * KIB));
    assert.equal(pool.trim(), 0);
    assert.equal(memory.buffer.byteLength, 4 * PAGE);
    const inner = new Pool(resizable(64 * KIB, 1 * MIB), { byteLength: 32 * KIB });
    assert.equal(inner.trim(), 0);
  });

  await t.step("refuses a bad keep and changes nothing", () => {
    const buffer = resizable(64 * KIB, 1 * MIB);
    const pool = new Pool(buffer);
    assert.throws(() => pool.trim("1" as unknown as number), TypeError);
    assert.throws(() => pool.trim(-1), RangeError);
    assert.throws(() => pool.trim(0.5), RangeError);
    assert.equal(buffer.byteLength, 64 * KIB);
  });
});

Deno.test("bad growth options are refused, and nothing changes", () => {
  const buffer = resizable(0, 1 * MIB);
  const cases: [unknown, ErrorConstructor][] = [
    [{ growFactor: "2" }, TypeError],
    [{ growFactor: 1 }, RangeError],
    [{ growFactor: 0.5 }, RangeError],
    [{ growFactor: NaN }, RangeError],
    [{ growFactor: Infinity }, RangeError],
    [{ maxByteLength: "1" }, TypeError],
    [{ maxByteLength: -1 }, RangeError],
    [{ maxByteLength: 2 * MIB }, RangeError],
    [{ maxByteLength: 1.5 }, RangeError],
    [{ onOutOfMemory: 5 }, TypeError],
    [{ onOutOfMemory: {} }, TypeError],
  ];
  for (const [options, type] of cases) {
    assert.throws(
      () => new Pool(buffer, options as object),
      (e: unknown) => e instanceof type && e.constructor === type,
      JSON.stringify(options),
    );
    assert.equal(buffer.byteLength, 0, "the buffer did not grow");
  }
  const fixed = new ArrayBuffer(64 * KIB);
  assert.throws(() => new Pool(fixed, { maxByteLength: 128 * KIB }), RangeError);
  assert.throws(() => new Pool(resizable(64 * KIB, MIB), { maxByteLength: 32 * KIB }), RangeError);
  // Too small to grow to its metadata under a low ceiling.
  assert.throws(() => new Pool(resizable(0, 200)), RangeError);
});

Deno.test("a resizable buffer shrunk below the pool: PoolError resized, also once grown back", () => {
  const buffer = resizable(64 * KIB, 1 * MIB);
  const pool = new Pool(buffer, { maxByteLength: 64 * KIB });
  const block = pool.allocate(40 * KIB)!;
  const offset = pool.alloc(100);
  block.f64[0] = 1.5;
  const f64 = block.f64;
  buffer.resize(16 * KIB);
  const resized = (pattern: RegExp) => (error: unknown) =>
    code("resized")(error) && pattern.test((error as Error).message);
  const shrunk = resized(/shrunk to 16384 bytes, below the pool's end at 65536/);
  assert.throws(() => pool.alloc(8), shrunk);
  assert.throws(() => pool.allocate(8), shrunk);
  assert.throws(() => pool.free(offset), shrunk);
  assert.throws(() => block.free(), shrunk);
  assert.throws(() => pool.stats(), shrunk);
  assert.throws(() => pool.bytesUsed(), shrunk);
  assert.throws(() => pool.check(), shrunk);
  assert.throws(() => block.u8, shrunk);
  assert.equal(f64.length, 0);
  assert.throws(() => block.f64, shrunk);
  buffer.resize(64 * KIB);
  const back = resized(/grown back/);
  assert.throws(() => pool.alloc(8), back);
  assert.throws(() => pool.free(offset), back);
  assert.throws(() => pool.largestFreeBlock(), back);
  assert.throws(() => pool.realloc(offset, 200), back);
  // A range that ends before the cut is not touched.
  const other = resizable(64 * KIB, 1 * MIB);
  const early = new Pool(other, { byteLength: 16 * KIB });
  const kept = early.alloc(100);
  other.resize(32 * KIB);
  early.free(kept);
  early.check();
});

Deno.test("a pool whose buffer was detached throws detached for every view, never an empty view", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const pool = new Pool(memory.buffer, { byteOffset: 1024 });
  const block = pool.allocate(64)!;
  const empty = pool.allocate(0)!;
  block.f64[0] = 2;
  assert.equal(block.f64[0], 2);
  void empty.u8;
  memory.grow(1);
  for (const view of [() => block.f64, () => block.u8, () => empty.u8, () => empty.f64]) {
    assert.throws(view, code("detached"));
  }
  assert.throws(() => block.view(Int32Array), code("detached"));
  assert.throws(() => pool.alloc(8), code("detached"));
  const buffer = new ArrayBuffer(4096);
  const transferred = new Pool(buffer);
  const kept = transferred.allocate(8)!;
  void kept.u8;
  buffer.transfer();
  assert.throws(() => kept.u8, code("detached"));
  assert.throws(() => transferred.stats(), code("detached"));
});

Deno.test("a pool over a WebAssembly.Memory", async (t) => {
  await t.step(
    "a live handle and its f64 work across grows made by the module and by JS",
    async () => {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1000 });
      const wasm = await growModule(memory);
      // The pool ends before the memory does: every grow below is someone else's.
      const pool = new Pool(memory, { byteOffset: 1024, byteLength: 60 * KIB });
      const block = pool.allocate(800)!;
      const values = block.f64;
      values.set([1, 2, 3]);
      const before = pool.stats();
      for (let round = 0; round < 6; round++) {
        if (round % 2 === 0) assert.ok(wasm.grow(1) >= 1);
        else memory.grow(2);
        // The old buffer is detached, yet the handle gives a view of the new one.
        assert.equal(values.length, 0);
        const f64 = block.f64;
        assert.equal(f64.length, 100);
        assert.equal(f64.buffer, memory.buffer);
        assert.equal(f64[round], round + 1);
        assert.equal(wasm.load(block.offset + 8 * round), round + 1);
        wasm.store(block.offset + 8 * (round + 3), round + 4);
        assert.equal(block.f64[round + 3], round + 4);
        const raw = pool.alloc(100);
        wasm.store(raw, 0.25);
        pool.free(raw);
      }
      assert.equal(memory.buffer.byteLength, 10 * PAGE);
      assert.equal(pool.byteLength, before.capacity);
      assert.deepEqual(pool.stats(), {
        ...before,
        allocations: 7,
        frees: 6,
        peakBytesUsed: pool.stats().peakBytesUsed,
      });
      assert.equal(pool.buffer, memory.buffer);
      pool.check();
    },
  );

  await t.step(
    "one that ends with the memory grows it by pages, and follows the module's grows",
    async () => {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
      const wasm = await growModule(memory);
      const pool = new Pool(memory, { byteOffset: 4096 });
      const block = pool.allocate(100_000)!;
      // Twice its bytes, rounded up to whole pages.
      assert.equal(memory.buffer.byteLength, 2 * PAGE);
      assert.equal(pool.byteLength, 2 * PAGE - 4096);
      block.f64.fill(9);
      assert.equal(wasm.load(block.offset + 8 * 12_000), 9);
      // The module takes a page for itself: the pool keeps its range, and no longer grows.
      assert.equal(wasm.grow(1), 2);
      assert.equal(block.f64[12_000], 9);
      assert.equal(pool.byteLength, 2 * PAGE - 4096);
      assert.equal(pool.allocate(200_000), null);
      pool.check();
    },
  );

  await t.step("at the memory's maximum an allocation fails", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 3 });
    const pool = new Pool(memory);
    assert.ok(pool.allocate(150_000) !== null);
    assert.equal(pool.allocate(100_000), null);
    assert.equal(memory.buffer.byteLength, 3 * PAGE);
    assert.ok(pool.allocate(30_000) !== null);
    pool.check();
  });

  await t.step("a random workload across its growth, with debug mode on", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const pool = new Pool(memory, { byteOffset: 2048, debug: true });
    const live = churn(pool, 3000, 5, 5000);
    assert.ok(memory.buffer.byteLength > 4 * PAGE);
    pool.check();
    assert.equal(pool.leaks().length, live.size);
  });

  await t.step("debug mode guards a block the pool grew for", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const pool = new Pool(memory, { byteOffset: 2048, debug: true });
    const big = pool.allocate(200_000)!;
    assert.ok(memory.buffer.byteLength > PAGE);
    new Uint8Array(memory.buffer, big.offset, 200_001).fill(1);
    assert.throws(() => big.free(), code("overflow"));
  });

  await t.step("a shared memory", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 100, shared: true });
    const pool = new Pool(memory, { byteOffset: 1024 });
    const block = pool.allocate(100)!;
    block.u8.fill(1);
    churn(pool, 2000, 6, 5000);
    assert.ok(memory.buffer.byteLength > PAGE);
    assert.ok(block.u8.every((byte) => byte === 1));
    assert.equal(pool.buffer, memory.buffer);
    pool.check();
  });
});
