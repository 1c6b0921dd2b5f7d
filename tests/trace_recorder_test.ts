import assert from "node:assert/strict";
import { random } from "./_random.ts";
import { allocate, type Block, deallocate, initPool, Pool, PoolError } from "../mod.ts";
import { parseTrace, recordTrace, type RecordTraceOptions, replayTrace } from "../trace.ts";

const POOL_BYTES = 1 << 20;
/** Few enough live blocks, small enough, that the pool never runs out. */
const MAX_LIVE = 40;
const MAX_SIZE = 2048;
const STEPS = 600;
const SEEDS = [1, 2, 3, 42, 1234];

/**
 * Drives `pool` through a random mix of handle and raw allocations (some
 * aligned), handle resizes, raw reallocs (some changing the alignment), and
 * frees by `Block.free`, `deallocate` and `free`.
 */
function randomWorkload(pool: Pool, seed: number): void {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const size = () => Math.floor(next() ** 3 * MAX_SIZE);
  const blocks: Block[] = [];
  const offsets: number[] = [];
  const takeOne = <T>(items: T[]): T => items.splice(Math.floor(next() * items.length), 1)[0]!;
  for (let step = 0; step < STEPS; step++) {
    const live = blocks.length + offsets.length;
    const roll = next();
    if (live < MAX_LIVE && roll < 0.3) {
      const align = pick([undefined, 1, 8, 16, 64, 256]);
      const block = pool.allocate(size(), align === undefined ? {} : { align, zero: next() < 0.5 });
      blocks.push(block!);
    } else if (live < MAX_LIVE && roll < 0.5) {
      offsets.push(next() < 0.5 ? pool.alloc(size()) : pool.alloc(size(), pick([4, 8, 32, 128])));
    } else if (blocks.length > 0 && roll < 0.6) {
      assert.ok(pool.resize(pick(blocks), size()));
    } else if (offsets.length > 0 && roll < 0.7) {
      // A raw realloc takes the alignment it is given (8 without one), not the block's.
      const at = Math.floor(next() * offsets.length);
      offsets[at] = pool.realloc(offsets[at]!, size(), pick([undefined, 4, 8, 64, 256]));
      assert.notEqual(offsets[at], 0);
    } else if (blocks.length > 0 && roll < 0.8) {
      takeOne(blocks).free();
    } else if (blocks.length > 0 && roll < 0.9) {
      pool.deallocate(takeOne(blocks));
    } else if (offsets.length > 0) {
      pool.free(takeOne(offsets));
    }
  }
}

/** The pool methods a recorder wraps. */
const RECORDED = ["allocate", "deallocate", "resize", "alloc", "free", "realloc"] as const;

function isRecorded(name: string): boolean {
  return (RECORDED as readonly string[]).includes(name);
}

// A file's stream (Deno.open(...).writable) is what `byteStream` is for: it must type-check.
const fileStreamFits: Deno.FsFile["writable"] extends NonNullable<RecordTraceOptions["byteStream"]>
  ? true
  : never = true;

/** A writable stream that keeps the chunks it is given, as a file would, and knows if it was closed. */
function collector<T>(): { stream: WritableStream<T>; chunks: T[]; closed: () => boolean } {
  const chunks: T[] = [];
  let closed = false;
  const stream = new WritableStream<T>({
    write(chunk) {
      chunks.push(chunk);
    },
    close() {
      closed = true;
    },
  });
  return { stream, chunks, closed: () => closed };
}

Deno.test("recordTrace records what a pool is asked to do", async (t) => {
  await t.step("a random workload, replayed from its trace, leaves the same pool", async () => {
    for (const seed of SEEDS) {
      const pool = Pool.create(POOL_BYTES);
      const recorder = recordTrace(pool);
      randomWorkload(pool, seed);
      await recorder.stop();
      assert.equal(pool.stats().failedAllocations, 0, "the workload must fit the pool");

      const trace = await parseTrace(recorder.toString(), { name: `seed ${seed}` });
      assert.ok(trace.ops.includes("r".charCodeAt(0)), "the workload resizes");
      assert.ok(trace.aligns.some((align) => align > 8), "the workload aligns");
      const copy = Pool.create(POOL_BYTES);
      assert.equal(replayTrace(trace, copy).failedAt, -1);
      assert.deepEqual([...copy.blocks()], [...pool.blocks()], `seed ${seed}`);
      assert.deepEqual(copy.stats(), pool.stats(), `seed ${seed}`);
    }
  });

  await t.step("so does a debug pool's, replayed into a fresh debug pool", async () => {
    for (const seed of SEEDS) {
      const pool = new Pool(new ArrayBuffer(POOL_BYTES), { debug: true });
      const recorder = recordTrace(pool);
      randomWorkload(pool, seed);
      await recorder.stop();
      pool.check();
      const trace = await parseTrace(recorder.toString(), { name: `debug, seed ${seed}` });
      const copy = new Pool(new ArrayBuffer(POOL_BYTES), { debug: true });
      assert.equal(replayTrace(trace, copy).failedAt, -1);
      copy.check();
      assert.deepEqual([...copy.blocks()], [...pool.blocks()], `seed ${seed}`);
      assert.deepEqual(copy.stats(), pool.stats(), `seed ${seed}`);
    }
  });

  await t.step(
    "a raw realloc that changes a block's alignment, up or down, replays to the same blocks",
    async () => {
      const cases: [string, (pool: Pool) => void, string][] = [
        ["up", (pool) => {
          const x = pool.alloc(24);
          pool.alloc(8);
          pool.realloc(x, 200, 256);
        }, "a 0 24\na 1 8\nr 0 0 200 256\n"],
        ["down", (pool) => {
          pool.alloc(8);
          const x = pool.alloc(24, 64);
          pool.alloc(8);
          pool.realloc(x, 200);
        }, "a 0 8\na 1 24 64\na 2 8\nr 1 1 200 8\n"],
      ];
      for (const [name, work, lines] of cases) {
        const pool = Pool.create(4096);
        const recorder = recordTrace(pool, { description: name });
        work(pool);
        await recorder.stop();
        assert.equal(recorder.toString(), `# ${name}\n${lines}`);
        const copy = Pool.create(4096);
        assert.equal(replayTrace(await parseTrace(recorder.toString()), copy).failedAt, -1);
        assert.deepEqual([...copy.blocks()], [...pool.blocks()], name);
      }
    },
  );

  await t.step("ids are small and reused after a free", async () => {
    const pool = Pool.create(4096);
    const recorder = recordTrace(pool, { description: "ids" });
    const a = pool.alloc(8);
    pool.alloc(8);
    pool.free(a);
    pool.alloc(16);
    pool.alloc(24);
    await recorder.stop();
    assert.equal(recorder.toString(), "# ids\na 0 8\na 1 8\nf 0\na 0 16\na 2 24\n");
  });

  await t.step("the module-level functions of the default pool are recorded too", async () => {
    const pool = initPool(new ArrayBuffer(4096));
    const recorder = recordTrace(pool, { description: "default" });
    deallocate(allocate(40)!);
    await recorder.stop();
    assert.equal(recorder.toString(), "# default\na 0 40\nf 0\n");
  });

  await t.step(
    "requests without room and blocks from before recording become comments",
    async () => {
      const pool = Pool.create(4096);
      const old = pool.allocate(64)!;
      const oldRaw = pool.alloc(64);
      const recorder = recordTrace(pool, { description: "comments" });
      assert.equal(pool.allocate(100_000), null);
      assert.equal(pool.alloc(100_000), 0);
      const block = pool.allocate(8)!;
      assert.equal(pool.resize(block, 100_000), false);
      pool.resize(old, 128);
      old.free();
      pool.free(oldRaw);
      await recorder.stop();
      const text = recorder.toString();
      assert.deepEqual(text.split("\n").filter((line) => !line.startsWith("#")), ["a 0 8", ""]);
      assert.equal(text.split("\n").filter((line) => line.startsWith("# ")).length, 7);
      assert.equal((await parseTrace(text)).length, 1);
    },
  );

  await t.step("calls that throw are not recorded", async () => {
    const pool = Pool.create(4096);
    const recorder = recordTrace(pool, { description: "throws" });
    const block = pool.allocate(8)!;
    block.free();
    assert.throws(() => block.free());
    assert.throws(() => pool.alloc(8, 3));
    await recorder.stop();
    assert.equal(recorder.toString(), "# throws\na 0 8\nf 0\n");
  });
});

Deno.test("a recorder's wrappers belong to its pool alone, and only while it records", async (t) => {
  await t.step(
    "recording puts a prototype in front of the pool's, and stop() takes it out again",
    async () => {
      const pool = Pool.create(4096);
      const other = Pool.create(4096);
      const recorder = recordTrace(pool);
      assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(pool)), Pool.prototype);
      for (const name of RECORDED) {
        assert.equal(Object.hasOwn(pool, name), false, name);
        assert.notEqual(pool[name], Pool.prototype[name], name);
        assert.equal(other[name], Pool.prototype[name], name);
      }
      assert.ok(recorder.recording);
      await recorder.stop();
      assert.equal(recorder.recording, false);
      assert.deepEqual(Object.getOwnPropertyNames(pool).filter((name) => isRecorded(name)), []);
      assert.equal(Object.getPrototypeOf(pool), Pool.prototype);
    },
  );

  await t.step("after stop() the pool has the hidden class of a pool never recorded", async () => {
    // V8's own answer, from a child run with its test intrinsics enabled.
    const code = `
      import { Pool } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
      import { recordTrace } from ${JSON.stringify(new URL("../trace.ts", import.meta.url).href)};
      const haveSameMap = new Function("a", "b", "return %HaveSameMap(a, b)");
      const hasFastProperties = new Function("a", "return %HasFastProperties(a)");
      const pool = Pool.create(4096);
      const never = Pool.create(4096);
      const recorder = recordTrace(pool);
      pool.free(pool.alloc(8));
      const during = haveSameMap(pool, never);
      await recorder.stop();
      console.log(JSON.stringify([during, haveSameMap(pool, never), hasFastProperties(pool)]));
    `;
    const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--v8-flags=--allow-natives-syntax", code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(status, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), [false, true, true]);
  });

  await t.step(
    "a pool with methods of its own, which would hide the recorder's, is refused",
    () => {
      const pool = Pool.create(4096);
      pool.alloc = pool.alloc.bind(pool);
      assert.throws(
        () => recordTrace(pool),
        (e) => e instanceof TypeError && /own alloc/.test(e.message),
      );
      assert.equal(Object.getPrototypeOf(pool), Pool.prototype);
    },
  );

  await t.step("recording a pool in debug mode keeps debug mode, during and after", async () => {
    const pool = new Pool(new ArrayBuffer(4096), { debug: true });
    const debugLayer = Object.getPrototypeOf(pool);
    const recorder = recordTrace(pool, { description: "debug" });
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(pool)), debugLayer);
    const offset = pool.alloc(13);
    assert.equal(pool.sizeOf(offset), 13, "the debug wrappers saw the allocation");
    const bytes = new Uint8Array(pool.buffer);
    const guard = bytes[offset + 13]!;
    bytes[offset + 13] = guard ^ 1;
    assert.throws(() => pool.free(offset), (e) => e instanceof PoolError && e.code === "overflow");
    bytes[offset + 13] = guard;
    pool.free(offset);
    // The block waits in debug mode's quarantine, so only debug mode knows it was freed.
    assert.throws(
      () => pool.free(offset),
      (e) => e instanceof PoolError && e.code === "double-free",
    );
    const block = pool.allocate(24, { align: 64 })!;
    assert.ok(pool.resize(block, 100));
    assert.deepEqual(pool.leaks().map((leak) => leak.size), [100]);
    block.free();
    await recorder.stop();
    assert.equal(Object.getPrototypeOf(pool), debugLayer);
    assert.deepEqual(Object.getOwnPropertyNames(pool), []);
    assert.equal(
      recorder.toString(),
      "# debug\na 0 13\nf 0\na 0 24 64\nr 0 0 100\nf 0\n",
    );
    assert.equal(pool.sizeOf(pool.alloc(13)), 13, "still in debug mode");
  });

  await t.step("after stop() nothing more is recorded, and stop() again is harmless", async () => {
    const pool = Pool.create(4096);
    const recorder = recordTrace(pool, { description: "stop" });
    pool.alloc(8);
    await recorder.stop();
    pool.alloc(8);
    await recorder.stop();
    assert.equal(recorder.toString(), "# stop\na 0 8\n");
  });

  await t.step("a pool can be recorded again once stopped, but not twice at once", async () => {
    const pool = Pool.create(4096);
    const first = recordTrace(pool);
    assert.throws(() => recordTrace(pool), /being recorded already/);
    await first.stop();
    const second = recordTrace(pool, { description: "again" });
    pool.alloc(8);
    await second.stop();
    assert.equal(second.toString(), "# again\na 0 8\n");
  });

  await t.step("a stream receives the same text, and is closed by stop()", async () => {
    const pool = Pool.create(POOL_BYTES);
    const sink = collector<string>();
    const recorder = recordTrace(pool, { stream: sink.stream });
    randomWorkload(pool, 7);
    // Enough lines for several chunks.
    for (let i = 0; i < 20_000; i++) pool.free(pool.alloc(i % 100));
    await recorder.stop();
    assert.ok(sink.closed());
    assert.ok(sink.chunks.length > 1);
    assert.equal(sink.chunks.join(""), recorder.toString());
  });

  await t.step(
    "a byte stream, as a file's is, receives the same text as UTF-8 and is closed by stop()",
    async () => {
      assert.ok(fileStreamFits);
      const pool = Pool.create(POOL_BYTES);
      const sink = collector<Uint8Array>();
      const description = "naïve — 😀 trace";
      const recorder = recordTrace(pool, { description, byteStream: sink.stream });
      randomWorkload(pool, 8);
      // Enough lines for several chunks.
      for (let i = 0; i < 20_000; i++) pool.free(pool.alloc(i % 100));
      await recorder.stop();
      assert.ok(sink.closed());
      assert.ok(sink.chunks.length > 1);
      assert.ok(sink.chunks.every((chunk) => chunk instanceof Uint8Array));
      const bytes = new Uint8Array(
        sink.chunks.flatMap((chunk) => [...chunk]),
      );
      const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      assert.equal(text, recorder.toString());
      assert.ok(text.startsWith(`# ${description}\n`));
      assert.equal((await parseTrace(bytes)).description, description);
    },
  );

  await t.step("stream and byteStream together are a TypeError, before anything", async () => {
    const pool = Pool.create(4096);
    const text = collector<string>();
    const bytes = collector<Uint8Array>();
    assert.throws(
      () => recordTrace(pool, { stream: text.stream, byteStream: bytes.stream }),
      (e) => e instanceof TypeError && /not both/.test(e.message),
    );
    assert.equal(Object.getPrototypeOf(pool), Pool.prototype);
    assert.equal(text.stream.locked, false);
    assert.equal(bytes.stream.locked, false);
    const recorder = recordTrace(pool, { description: "after", byteStream: bytes.stream });
    pool.alloc(8);
    await recorder.stop();
    assert.equal(
      new TextDecoder().decode(bytes.chunks[0]),
      "# after\na 0 8\n",
    );
  });

  await t.step(
    "a stream that is not a WritableStream, or a description not a string, is a TypeError",
    async () => {
      const pool = Pool.create(4096);
      const wrong = [{ stream: {} }, { byteStream: "x" }, { stream: [] }, { description: 5 }];
      for (const options of wrong) {
        assert.throws(
          () => recordTrace(pool, options as unknown as RecordTraceOptions),
          (e) => e instanceof TypeError && e.message.includes(Object.keys(options)[0]!),
        );
        assert.equal(Object.getPrototypeOf(pool), Pool.prototype);
      }
      // Nothing was left recording: a recorder can start.
      await recordTrace(pool).stop();
    },
  );

  await t.step("a stream or byte stream that fails makes stop() reject", async () => {
    for (const option of ["stream", "byteStream"] as const) {
      const pool = Pool.create(4096);
      const broken = new WritableStream({
        write() {
          throw new Error("disk full");
        },
      });
      const recorder = recordTrace(pool, { [option]: broken });
      pool.alloc(8);
      await assert.rejects(recorder.stop(), /disk full/, option);
    }
  });
});
