import assert from "node:assert/strict";
import { Pool, PoolError } from "../mod.ts";
import {
  expectedLayout,
  MAP_CHUNK,
  RUN_HEADER,
  RUNS_MIN_POOL,
  slotFor,
  slotsPerRun,
  withWarmUp,
} from "../tools/_oracle.ts";

// Damage to a run's header that the misuse fuzzer found the runs tier
// missing: each time, a later allocation handed out a live slot or a free
// never returned. Each is now `corrupt`, and nothing live is handed out.

/** A request whose slot is 24 bytes, and the slots in its runs. */
const SMALL = 24;
const SLOTS_PER_RUN = slotsPerRun(slotFor(SMALL));
/** A request of another class, and its slot. */
const MEDIUM = 185;
const MEDIUM_SLOT = slotFor(MEDIUM);
/** A request in the smallest class, and its slot. */
const TINY = 5;
const TINY_SLOT = slotFor(TINY);
/** Byte offsets in a run's header (slot 0 is RUN_HEADER bytes after its start). */
const SIZE_FIELD = 0;
const CHECK_FIELD = 4;
const NEXT_FIELD = 20;
const LIVE_FIELD = 28;
/** Size classes, each with a head word and a count among the runs tier's words. */
const CLASSES = 31;
/** Not the offset of any run: where a damaged link might point. */
const BOGUS_LINK = 3;

function isCorrupt(error: unknown): boolean {
  return error instanceof PoolError && error.code === "corrupt";
}

/** A pool with one run of SMALL-byte slots, its first slot live; and the run's header's words. */
function poolWithRun(): { pool: Pool; first: number; header: DataView } {
  const pool = withWarmUp(0, () => Pool.create(RUNS_MIN_POOL));
  const first = pool.alloc(SMALL);
  assert.equal(pool.stats().runs, 1);
  return { pool, first, header: new DataView(pool.buffer, first - RUN_HEADER, RUN_HEADER) };
}

Deno.test("a free refused for a damaged run list leaves the slot live", () => {
  const { pool, first, header } = poolWithRun();
  const other = pool.alloc(SMALL);
  pool.free(other);
  // Freeing the last live slot empties the run; a link to no run makes giving it back fail.
  header.setUint32(NEXT_FIELD, BOGUS_LINK, true);
  assert.throws(() => pool.free(first), isCorrupt);
  assert.equal(pool.sizeOf(first), SMALL, "the slot is still live");
  assert.notEqual(pool.alloc(SMALL), first);
});

Deno.test("a run that fills leaves a damaged next link to the next allocation, which refuses it", () => {
  const { pool, header } = poolWithRun();
  for (let i = 1; i < SLOTS_PER_RUN - 1; i++) pool.alloc(SMALL);
  header.setUint32(NEXT_FIELD, BOGUS_LINK, true);
  // The run fills and leaves its list without reading or writing the run it names next.
  pool.alloc(SMALL);
  assert.throws(() => pool.alloc(SMALL), isCorrupt);
});

Deno.test("an empty run whose size word is damaged is not given back", () => {
  const { pool, first, header } = poolWithRun();
  const whole = pool.largestFreeBlock();
  pool.free(first);
  // The empty run is held for its class; all of the pool takes giving it back.
  header.setUint32(SIZE_FIELD, 0x99790000, true);
  assert.throws(() => pool.alloc(whole + RUN_HEADER), isCorrupt);
});

Deno.test("a run whose live word is damaged does not pass for empty", () => {
  const { pool, first, header } = poolWithRun();
  const whole = pool.largestFreeBlock();
  // No live bits: with this word alone, the run with a live slot would look empty.
  header.setUint32(LIVE_FIELD, 0, true);
  let got = 0;
  assert.throws(() => {
    got = pool.alloc(whole + RUN_HEADER);
  }, isCorrupt);
  assert.equal(got, 0);
  assert.equal(pool.sizeOf(first), SMALL);
});

Deno.test("a resize into a run whose header is damaged is refused before the slot moves", () => {
  const pool = withWarmUp(0, () => Pool.create(RUNS_MIN_POOL));
  const block = pool.allocate(MEDIUM)!;
  const target = pool.alloc(SMALL);
  // The check word of the run that a resize to SMALL bytes takes its slot from.
  const header = new DataView(pool.buffer, target - RUN_HEADER, RUN_HEADER);
  header.setUint32(CHECK_FIELD, header.getUint32(CHECK_FIELD, true) ^ 1, true);
  assert.throws(() => pool.resize(block, SMALL), isCorrupt);
  assert.equal(pool.sizeOf(block.offset), MEDIUM_SLOT, "the slot is still live where it was");
});

Deno.test("a resize to a slot that a damaged map hides is refused before the slot moves", () => {
  const pool = withWarmUp(0, () => Pool.create(RUNS_MIN_POOL));
  const block = pool.allocate(MEDIUM)!;
  // A run of the smallest slots: a resize to TINY bytes takes the slot after `first`.
  const first = pool.alloc(TINY);
  const rel = first + TINY_SLOT - pool.byteOffset;
  const map = pool.byteOffset + expectedLayout(RUNS_MIN_POOL).map;
  const bytes = new Uint8Array(pool.buffer);
  // The map entries that lead to that slot's run: its chunk's, and the one before's.
  const chunk = Math.floor(rel / MAP_CHUNK);
  for (const g of [chunk - 1, chunk]) bytes[map + g] = bytes[map + g]! ^ 1;
  assert.throws(() => pool.resize(block, TINY), isCorrupt);
  assert.equal(pool.sizeOf(block.offset), MEDIUM_SLOT, "the slot is still live where it was");
});

Deno.test("a class head word that names a place past the pool is corrupt, for every class", () => {
  for (const size of [TINY, SMALL, MEDIUM]) {
    const pool = withWarmUp(0, () => Pool.create(RUNS_MIN_POOL));
    const first = pool.alloc(size);
    const run = first - RUN_HEADER;
    // The head word of this class holds the run's offset: find it in the metadata, and point it
    // past the pool's end, where every word reads as undefined.
    const u32 = new Uint32Array(pool.buffer);
    // The runs tier's words end at the map: 31 counts before it, 31 heads before them.
    const heads = expectedLayout(RUNS_MIN_POOL).map / 4 - 2 * CLASSES;
    const at = heads + u32.subarray(heads, heads + CLASSES).indexOf(run);
    assert.ok(at >= heads, "the class's head word");
    u32[at] = RUNS_MIN_POOL + 2 * MAP_CHUNK;
    assert.throws(() => pool.alloc(size), isCorrupt);
  }
});
