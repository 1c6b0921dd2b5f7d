import { withWarmUp } from "../tools/_oracle.ts";
import assert from "node:assert/strict";
import { heapMap, Pool } from "../mod.ts";

const ESCAPE = "\x1b[";
/** Bytes a cell covers in the map of a run's header: less than the header. */
const SMALL_CELL = 16;

/** The text with its ANSI colour codes taken out. */
function stripColor(text: string): string {
  const [head, ...rest] = text.split(ESCAPE);
  return head + rest.map((part) => part.replace(/^[0-9;]*m/, "")).join("");
}

/** The runs of one glyph in a plain map, e.g. "≡≡█░░" → ["≡≡", "█", "░░"]. */
function runs(map: string): string[] {
  return map.match(/(.)\1*/gu) ?? [];
}

/** A pool filled with 512-byte blocks, every other one freed. */
function fragmentedPool(): Pool {
  const pool = Pool.create(8192);
  const blocks = [];
  for (let block = pool.allocate(512); block !== null; block = pool.allocate(512)) {
    blocks.push(block);
  }
  // Grow the last block over what is left, so no free run is narrower than a block.
  const last = blocks.at(-1)!;
  assert.ok(pool.resize(last, last.length + pool.bytesFree()));
  assert.equal(pool.bytesFree(), 0);
  blocks.forEach((block, i) => {
    if (i % 2 === 0) block.free();
  });
  return pool;
}

Deno.test("heapMap draws a pool as one line", async (t) => {
  await t.step("it is exactly as wide as asked", () => {
    const pool = fragmentedPool();
    for (const width of [2, 3, 17, 64, 200]) {
      assert.equal(heapMap(pool, { width }).length, width);
    }
    assert.equal(heapMap(pool).length, 64);
  });

  await t.step("an empty pool is metadata, then free cells to the end", () => {
    const map = heapMap(Pool.create(8192));
    assert.match(map, /^≡+░+$/);
  });

  await t.step("the metadata gets its share of the width", () => {
    const pool = Pool.create(8192);
    const width = 64;
    const header = [...pool.blocks()][0]!.blockStart - pool.byteOffset;
    const metaCells = runs(heapMap(pool, { width }))[0]!.length;
    assert.equal(metaCells, Math.round((header / pool.byteLength) * width));
  });

  await t.step("a large pool still shows one metadata cell", () => {
    assert.match(heapMap(Pool.create(1 << 24)), /^≡░+$/);
  });

  await t.step("a full pool is metadata, then used cells to the end", () => {
    const pool = Pool.create(8192);
    assert.notEqual(pool.allocate(pool.largestFreeBlock()), null);
    assert.equal(pool.bytesFree(), 0);
    assert.match(heapMap(pool), /^≡+█+$/);
  });

  await t.step("used blocks take cells in proportion to their bytes", () => {
    const pool = Pool.create(1 << 16);
    const width = 100;
    const blockBytes = pool.bytesFree();
    pool.allocate(blockBytes / 2);
    const [meta, used] = runs(heapMap(pool, { width }));
    const blockCells = width - meta!.length;
    assert.ok(Math.abs(used!.length - blockCells / 2) <= 1, `${used!.length} of ${blockCells}`);
  });

  await t.step("a fragmented pool alternates used and free runs", () => {
    const pool = fragmentedPool();
    const freeBlocks = [...pool.blocks()].filter((block) => block.free).length;
    const blockRuns = runs(heapMap(pool)).slice(1);
    assert.ok(freeBlocks > 3);
    assert.equal(blockRuns.filter((run) => run[0] === "░").length, freeBlocks);
    assert.equal(blockRuns.filter((run) => run[0] === "█").length, pool.stats().liveBlocks);
  });

  await t.step("a block smaller than a cell still shows among free cells", () => {
    const pool = Pool.create(1 << 20);
    // Below Size.LargeBlock, so all three are carved from the low end, in order.
    const before = pool.allocate(60_000)!;
    pool.allocate(1);
    const after = pool.allocate(60_000)!;
    before.free();
    after.free();
    assert.match(heapMap(pool), /^≡+░+█░+$/);
  });

  await t.step("a run's header is used while a slot of it is live, free once it is empty", () => {
    // 128 KiB or more: small blocks are slots in runs, whose 32-byte header is no slot.
    const pool = withWarmUp(0, () => Pool.create(1 << 17));
    const width = pool.byteLength / SMALL_CELL;
    const slot = pool.allocate(1)!;
    assert.equal(slot.offset, [...pool.blocks()][0]!.blockStart, "a slot, with no header");
    // The run's header and its first slot, 48 bytes: three cells of about 16 bytes or more.
    const [meta, used, free] = runs(heapMap(pool, { width }));
    assert.match(meta!, /^≡+$/);
    assert.match(used!, /^█{3,}$/);
    assert.match(free!, /^░+$/);
    slot.free();
    // The empty run is held for its class and counts as free, header and all.
    assert.equal(pool.bytesFree() + pool.stats().metadataBytes, pool.byteLength);
    assert.match(heapMap(pool, { width }), /^≡+░+$/);
  });

  await t.step("a pool over part of a buffer is drawn from its own range", () => {
    const buffer = new ArrayBuffer(1 << 16);
    const pool = new Pool(buffer, { byteOffset: 1000, byteLength: 8192 });
    pool.allocate(2000);
    assert.match(heapMap(pool, { width: 40 }), /^≡+█+░+$/);
  });

  await t.step("colour wraps the same map in ANSI escapes", () => {
    const pool = fragmentedPool();
    const plain = heapMap(pool);
    const colored = heapMap(pool, { color: true });
    assert.ok(!plain.includes(ESCAPE));
    assert.ok(colored.includes(ESCAPE));
    assert.ok(colored.endsWith("\x1b[0m"));
    assert.equal(stripColor(colored), plain);
    assert.equal(heapMap(pool, { color: false }), plain);
  });

  await t.step("a bad width or a non-pool is refused", () => {
    const pool = Pool.create(4096);
    for (const width of [1, 0, -3, 2.5, NaN, Infinity]) {
      assert.throws(() => heapMap(pool, { width }), RangeError);
    }
    assert.throws(() => heapMap(pool, { width: "64" as unknown as number }), TypeError);
    assert.throws(() => heapMap({} as Pool), TypeError);
  });
});
