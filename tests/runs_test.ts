// The runs tier (issue 14): small requests get slots in runs. Each refusal on a slot throws its
// error and leaves the pool exactly as it was; a run goes back to the TLSF tier when its last
// slot is freed; the stats stay exact; and everything that looks inside works on slots.
import assert from "node:assert/strict";
import { type Block, Pool, PoolError, type PoolErrorCode } from "../mod.ts";
import {
  classOf,
  RunField,
  RunInfo,
  RunMap,
  RunsWord,
  Slot,
  slotSize,
  slotsPerRun,
} from "../src/engine/runs.ts";
import { blockSizeFor, Flag, HeaderWord, headsEnd, Size, UsedField } from "../src/engine/tlsf.ts";
import { assertPattern, fillPattern, snapshot } from "./_model.ts";
import { withWarmUp } from "../tools/_oracle.ts";

/** A pool with runs: RunMap.MinPool bytes or more. */
const POOL_BYTES = 4 * RunMap.MinPool;
/** Request sizes that span the classes: the smallest, a few between, the largest. */
const SMALL_SIZES = [0, 1, Slot.Min, Slot.Min + 1, 40, 100, 200, Slot.Max - 1, Slot.Max];

/** Matches a PoolError with `code`, and nothing else. */
function poolError(code: PoolErrorCode, message?: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof PoolError && e.code === code && (message?.test(e.message) ?? true);
}

/** Live raw slots whose payloads hold a pattern, to show that a refusal wrote none of them. */
class Filled {
  readonly offsets: number[] = [];
  constructor(readonly pool: Pool) {}

  /** Allocates `size` bytes, fills the slot and remembers it; returns its offset. */
  alloc(size: number): number {
    const offset = this.pool.alloc(size);
    assert.notEqual(offset, 0, `allocating ${size} bytes fits`);
    fillPattern(this.pool.buffer, offset, this.pool.sizeOf(offset), offset);
    this.offsets.push(offset);
    return offset;
  }

  /** Frees the slot at `offset`, which this allocated. */
  free(offset: number): void {
    this.pool.free(offset);
    this.offsets.splice(this.offsets.indexOf(offset), 1);
  }

  /** Asserts that every live slot still holds its pattern. */
  assertIntact(): void {
    for (const offset of this.offsets) {
      assertPattern(this.pool.buffer, offset, this.pool.sizeOf(offset), offset, "live slot");
    }
  }
}

/**
 * Asserts that `op` throws what `matches` accepts and changes no byte of the
 * pool; then that `check()` passes and stats and blocks are as they were.
 * `damage` (if any) overwrites the pool's bytes before `op` and returns what
 * puts them back, which runs after the throw.
 */
function assertRefused(
  filled: Filled,
  op: () => unknown,
  matches: (e: unknown) => boolean,
  damage?: () => () => void,
): void {
  const { pool } = filled;
  const before = snapshot(pool);
  const bytes = new Uint8Array(pool.buffer).slice();
  const restore = damage?.();
  assert.throws(op, matches);
  restore?.();
  assert.deepEqual(new Uint8Array(pool.buffer), bytes, "no byte of the pool changed");
  pool.check();
  assert.deepEqual(snapshot(pool), before);
  filled.assertIntact();
}

/** Damage that XORs the 32-bit word at byte `at` of `pool` with `flip`. */
function flipWord(pool: Pool, at: number, flip: number): () => () => void {
  return () => {
    const u32 = new Uint32Array(pool.buffer);
    const saved = u32[at >>> 2]!;
    u32[at >>> 2] = saved ^ flip;
    return () => u32[at >>> 2] = saved;
  };
}

/** The run (its byte offset, in a pool at offset 0) whose first slot is at `slot0`. */
function runOfFirstSlot(slot0: number): number {
  return slot0 - RunField.Header;
}

/** Byte offset of the run map's entry for the chunk that holds `offset` (a pool at offset 0). */
function mapEntryOf(pool: Pool, offset: number): number {
  const rows = new Uint32Array(pool.buffer)[HeaderWord.FlCount]!;
  return headsEnd(rows) + RunsWord.Map * Size.Word + (offset >>> RunMap.ChunkLog2);
}

/** A fresh pool with one full run of class `k`, every slot filled; returns them in slot order. */
function fullRun(k: number): { filled: Filled; run: number; slots: number[] } {
  const filled = new Filled(withWarmUp(0, () => Pool.create(POOL_BYTES)));
  const slots = Array.from({ length: slotsPerRun(k) }, () => filled.alloc(slotSize(k)));
  const run = runOfFirstSlot(slots[0]!);
  slots.forEach((slot, i) => assert.equal(slot, run + RunField.Header + i * slotSize(k)));
  return { filled, run, slots };
}

/** Bytes in a page of a WebAssembly.Memory. */
const WASM_PAGE = 65536;

/** The class of 24-byte slots: 32 to a run. */
const K24 = classOf(24);

Deno.test("a slot's refusals throw their error and leave the pool as it was", async (t) => {
  await t.step("an offset inside a slot is invalid-offset", () => {
    for (const k of [0, K24, classOf(100), classOf(Slot.Max)]) {
      const { filled, slots } = fullRun(k);
      for (const slot of [slots[0]!, slots[1]!, slots.at(-1)!]) {
        // Every byte inside, 8-aligned ones (which pass the TLSF tier's alignment test) included.
        for (let d = 1; d < slotSize(k); d++) {
          assertRefused(filled, () => filled.pool.free(slot + d), poolError("invalid-offset"));
        }
        assertRefused(filled, () => filled.pool.sizeOf(slot + 8), poolError("invalid-offset"));
        assertRefused(
          filled,
          () => filled.pool.realloc(slot + 8, 10),
          poolError("invalid-offset"),
        );
      }
    }
  });

  await t.step("a slot freed twice is double-free, for every slot of a run", () => {
    const { filled, slots } = fullRun(K24);
    const freed: number[] = [];
    // The last one freed leaves the run empty, held as its class's one run: still known exactly.
    for (const slot of slots) {
      filled.free(slot);
      freed.push(slot);
      for (const again of freed) {
        assertRefused(filled, () => filled.pool.free(again), poolError("double-free"));
        assertRefused(filled, () => filled.pool.realloc(again, 8), poolError("double-free"));
        assertRefused(filled, () => filled.pool.sizeOf(again), poolError("double-free"));
      }
    }
    assert.equal(filled.pool.stats().runs, 1);
  });

  await t.step("an offset in a run's header is invalid-offset", () => {
    const { filled, run } = fullRun(K24);
    // The run is a used block of the TLSF tier: its payload offset is refused too.
    for (let at = run; at < run + RunField.Header; at++) {
      assertRefused(filled, () => filled.pool.free(at), poolError("invalid-offset"));
    }
    assertRefused(
      filled,
      () => filled.pool.realloc(run + Size.BlockHeader, 8),
      poolError("invalid-offset"),
    );
  });

  await t.step("an offset in a run's tail is invalid-offset", () => {
    // A hole a word bigger than a run of 48-byte slots: the run is carved from it, and the
    // word left over, too small for a block, stays with it as its tail.
    const k = classOf(48);
    const slots = RunField.Header + slotsPerRun(k) * slotSize(k);
    const filled = new Filled(withWarmUp(0, () => Pool.create(POOL_BYTES)));
    const hole = filled.alloc(slots);
    assert.equal(blockSizeFor(slots), slots + Size.Align);
    filled.alloc(Slot.Max + 1);
    filled.free(hole);
    const slot0 = filled.alloc(slotSize(k));
    const run = runOfFirstSlot(slot0);
    assert.equal(run, hole - Size.BlockHeader, "the run took the hole");
    assert.equal(new Uint32Array(filled.pool.buffer)[run >>> 2]! & ~Flag.Mask, slots + Size.Align);
    const tail = run + slots;
    for (let at = tail; at < tail + Size.Align; at++) {
      assertRefused(filled, () => filled.pool.free(at), poolError("invalid-offset"));
    }
    assertRefused(filled, () => filled.pool.sizeOf(tail), poolError("invalid-offset"));
  });

  await t.step("a damaged run header is corrupt: its size, check word or info", () => {
    // The size and flags word is at the run's start, as at every block's.
    for (const field of [0, UsedField.Check, RunField.Info]) {
      for (const flip of [Size.Align, 1 << 20, Flag.Free]) {
        const { filled, run, slots } = fullRun(K24);
        filled.free(slots[3]!);
        for (
          const op of [
            () => filled.pool.free(slots[5]!),
            () => filled.pool.sizeOf(slots[5]!),
            () => filled.pool.realloc(slots[5]!, 100),
            () => filled.pool.free(slots[3]!),
          ]
        ) {
          assertRefused(filled, op, poolError("corrupt"), flipWord(filled.pool, run + field, flip));
        }
      }
    }
  });

  await t.step("a held empty run's damaged header is corrupt when its room is wanted", () => {
    for (const [field, flip] of [[0, 1 << 31], [0, Size.Align], [UsedField.Check, 1]] as const) {
      const filled = new Filled(withWarmUp(0, () => Pool.create(POOL_BYTES)));
      const slot = filled.alloc(24);
      filled.alloc(Slot.Max + 1);
      filled.free(slot);
      filled.alloc(filled.pool.largestFreeBlock());
      const run = runOfFirstSlot(slot);
      // Only the held run's room is free: an allocation takes it by giving the run back.
      const damage = flipWord(filled.pool, run + field, flip);
      for (
        const op of [() => filled.pool.alloc(Slot.Max + 1), () => filled.pool.largestFreeBlock()]
      ) {
        assertRefused(filled, op, poolError("corrupt"), damage);
      }
      assert.notEqual(filled.pool.alloc(Slot.Max + 1), 0);
      filled.pool.check();
    }
  });

  await t.step(
    "a free that would give back a damaged held run is corrupt, and writes nothing",
    () => {
      for (const [field, flip] of [[UsedField.Check, 1], [RunField.Live, 2]] as const) {
        const { filled, slots } = fullRun(K24);
        const second = Array.from({ length: slotsPerRun(K24) }, () => filled.alloc(24));
        // The first run empties and is held; a slot freed in the full second one would join
        // the class's list, which gives the held run back.
        for (const slot of slots) filled.free(slot);
        const held = runOfFirstSlot(slots[0]!);
        const damage = flipWord(filled.pool, held + field, flip);
        assertRefused(filled, () => filled.pool.free(second[3]!), poolError("corrupt"), damage);
        filled.free(second[3]!);
        filled.pool.check();
      }
    },
  );

  await t.step("a free bit past a run's slots is corrupt, not a slot outside the run", () => {
    // 104-byte slots, 7 to a run: bits 7 to 31 name no slot.
    const k = classOf(100);
    for (const free of [1 << slotsPerRun(k), 1 << 31, 1 | (1 << 31), 0b11 << 30]) {
      const filled = new Filled(withWarmUp(0, () => Pool.create(POOL_BYTES)));
      const run = runOfFirstSlot(filled.alloc(100));
      const damage = () => {
        const u32 = new Uint32Array(filled.pool.buffer);
        const at = (run + RunField.Free) >>> 2;
        const saved = u32[at]!;
        u32[at] = free;
        return () => u32[at] = saved;
      };
      assertRefused(filled, () => filled.pool.alloc(100), poolError("corrupt"), damage);
    }
  });

  await t.step(
    "a damaged next link of a run that fills is corrupt, and nothing is written through it",
    () => {
      const { filled, slots } = fullRun(K24);
      const second = filled.alloc(24);
      const head = runOfFirstSlot(second);
      // The first run, a slot freed, heads the list again; the next allocation fills it, and
      // the rest fill the second run but for one slot.
      filled.free(slots[0]!);
      for (let i = 0; i < slotsPerRun(K24) - 1; i++) filled.alloc(24);
      assert.equal(filled.pool.stats().slotBytesFree, slotSize(K24));
      // Taking the last slot, the run leaves the list and its next link becomes the head word:
      // the next allocation finds no run of its class there, and nothing was written there.
      const u32 = new Uint32Array(filled.pool.buffer);
      u32[(head + RunField.Next) >>> 2] = u32[(head + RunField.Next) >>> 2]! + Size.Align;
      const bogus = u32[(head + RunField.Next) >>> 2]!;
      const before = new Uint8Array(filled.pool.buffer, bogus, RunField.Header).slice();
      filled.alloc(24);
      assert.throws(() => filled.pool.alloc(24), poolError("corrupt"));
      assert.deepEqual(new Uint8Array(filled.pool.buffer, bogus, RunField.Header), before);
    },
  );

  await t.step("a damaged link in a class's list of runs is corrupt", () => {
    const { filled, slots } = fullRun(K24);
    // A second run, one slot live, then a slot of the full first run freed: the list is the
    // first run, then the second, whose back link names the first.
    const other = filled.alloc(24);
    const second = runOfFirstSlot(other);
    filled.free(slots[0]!);
    // Emptied, the second run is given back, unlinked through its back link.
    const damage = flipWord(filled.pool, second + RunField.Prev, Size.Align);
    assertRefused(filled, () => filled.pool.free(other), poolError("corrupt"), damage);
  });

  await t.step("a slot moved out of a run it empties finds a damaged link and stays", () => {
    const { filled, slots } = fullRun(K24);
    const other = filled.alloc(24);
    const second = runOfFirstSlot(other);
    filled.free(slots[0]!);
    const { bytesUsed: used, peakBytesUsed: peak } = filled.pool.stats();
    const restore = flipWord(filled.pool, second + RunField.Prev, Size.Align)();
    assert.throws(() => filled.pool.realloc(other, Slot.Max + 1), poolError("corrupt"));
    restore();
    // The block it was moving to is given back: the slot is live where it was, and the pool
    // holds what it held, with counters that agree with its blocks and runs.
    filled.pool.check();
    assert.equal(filled.pool.sizeOf(other), slotSize(K24));
    assert.equal(filled.pool.stats().bytesUsed, used);
    assert.equal(filled.pool.stats().peakBytesUsed, peak);
  });

  await t.step("a damaged map entry that leads to no run is corrupt", () => {
    // Three runs of 16-byte slots (544 bytes each), so chunks hold a run's start or its end.
    const filled = new Filled(withWarmUp(0, () => Pool.create(POOL_BYTES)));
    const slots = Array.from({ length: 3 * slotsPerRun(0) }, () => filled.alloc(Slot.Min));
    const u8 = new Uint8Array(filled.pool.buffer);
    for (const slot of slots) {
      const at = mapEntryOf(filled.pool, slot);
      const saved = u8[at]!;
      const chunkEnd = ((slot >>> RunMap.ChunkLog2) + 1) << RunMap.ChunkLog2;
      // The entry names the run that holds its chunk's last byte: this slot's, or a later one.
      if (saved === 0 || slot < chunkEnd - saved * Slot.Step) continue;
      // A word off either way: the map then names an offset where no run starts.
      for (const wrong of [saved - 1, saved + 1]) {
        assertRefused(filled, () => filled.pool.free(slot), poolError("corrupt"), () => {
          u8[at] = wrong;
          return () => u8[at] = saved;
        });
      }
    }
  });

  await t.step("any non-zero wrong map entry is corrupt, unless it still leads to the slot", () => {
    const pool = withWarmUp(0, () => Pool.create(RunMap.MinPool));
    const filled = new Filled(pool);
    const slots = Array.from({ length: 3 * slotsPerRun(0) }, () => filled.alloc(Slot.Min));
    const u8 = new Uint8Array(pool.buffer);
    // Each run's first and last slot, and the slots on either side of a chunk's end.
    const picked = slots.filter((slot, i) =>
      i % slotsPerRun(0) === 0 || i % slotsPerRun(0) === slotsPerRun(0) - 1 ||
      (slot + Slot.Min) % RunMap.Chunk === 0 || slot % RunMap.Chunk === 0
    );
    for (const slot of picked) {
      const at = mapEntryOf(pool, slot);
      const saved = u8[at]!;
      for (let wrong = 1; wrong < 2 ** 8; wrong++) {
        if (wrong === saved) continue;
        const before = pool.stats();
        u8[at] = wrong;
        try {
          assert.equal(pool.sizeOf(slot), Slot.Min);
        } catch (e) {
          assert.ok(poolError("corrupt")(e), `sizeOf with entry ${wrong} for ${slot}: ${e}`);
        }
        let freed = true;
        try {
          pool.free(slot);
        } catch (e) {
          assert.ok(poolError("corrupt")(e), `entry ${wrong} for ${slot}: ${e}`);
          freed = false;
        }
        u8[at] = saved;
        pool.check();
        if (freed) {
          // The entry still led to the slot's own run: that slot, and no other, was freed.
          assert.throws(() => pool.free(slot), poolError("double-free"));
          assert.equal(pool.alloc(Slot.Min), slot);
        }
        assert.deepEqual(pool.stats().bytesUsed, before.bytesUsed);
        filled.assertIntact();
      }
    }
  });

  await t.step("raw free of a slot a Block owns is invalid-offset, naming the Block", () => {
    const filled = new Filled(withWarmUp(0, () => Pool.create(POOL_BYTES)));
    filled.alloc(24);
    const block = filled.pool.allocate(24)!;
    assert.equal(block.offset, filled.offsets[0]! + slotSize(K24), "the Block's is a slot");
    for (
      const op of [() => filled.pool.free(block.offset), () => filled.pool.realloc(block.offset, 8)]
    ) {
      assertRefused(filled, op, poolError("invalid-offset", /payload of a Block/));
    }
    assert.equal(filled.pool.sizeOf(block.offset), slotSize(K24));
    block.free();
    filled.pool.check();
  });
});

/** Allocates raw blocks of every size in `sizes`, `times` times over, interleaved; returns them. */
function allocMany(pool: Pool, sizes: readonly number[], times: number): number[] {
  const offsets = [];
  for (let i = 0; i < times; i++) {
    for (const size of sizes) {
      const offset = pool.alloc(size);
      assert.notEqual(offset, 0);
      offsets.push(offset);
    }
  }
  return offsets;
}

/** Asserts that `pool` is again, in effect, one free block. */
function assertOneFreeBlock(pool: Pool): void {
  pool.check();
  assert.equal(pool.bytesUsed(), 0);
  assert.equal(pool.largestFreeBlock(), pool.bytesFree() - Size.BlockHeader);
  assert.equal(pool.stats().fragmentation, 0);
  assert.equal(pool.stats().metadataBytes, Pool.create(pool.byteLength).stats().metadataBytes);
  const all = pool.alloc(pool.largestFreeBlock());
  assert.notEqual(all, 0, "the whole free space is one block");
  assert.equal(pool.stats().runs, 0, "the held empty runs were given back");
  pool.free(all);
  pool.check();
  const stats = pool.stats();
  assert.equal(stats.runs, 0);
  assert.equal(stats.freeBlocks, 1);
  assert.equal(stats.slotBytesFree, 0);
}

Deno.test("a run goes back to the TLSF tier when its last slot is freed", async (t) => {
  await t.step("once everything is freed, the pool is one free block again", () => {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const offsets = allocMany(pool, [8, 24, 40, 100, 256, 300, 24, 1000], 60);
    assert.ok(pool.stats().runs > 5);
    // Every other one first, so that runs empty while others still hold slots.
    for (const offset of offsets.filter((_, i) => i % 2 === 0)) pool.free(offset);
    pool.check();
    for (const offset of offsets.filter((_, i) => i % 2 === 1).reverse()) pool.free(offset);
    assert.ok(pool.stats().runs <= SMALL_SIZES.length, "at most one held run per class");
    assertOneFreeBlock(pool);
  });

  await t.step("a run that is not its class's one run is given back at once", () => {
    const { filled, slots } = fullRun(K24);
    const second = filled.alloc(24);
    assert.equal(filled.pool.stats().runs, 2);
    // The first run, full, goes back on its class's list; its last slot freed, it empties.
    for (const slot of slots) filled.free(slot);
    assert.equal(filled.pool.stats().runs, 1);
    filled.free(second);
    assert.equal(filled.pool.stats().runs, 1, "the last run is held, empty");
    assertOneFreeBlock(filled.pool);
  });

  /**
   * A fresh pool holding a block of the TLSF tier of `before` bytes, then a run of 24-byte slots
   * with one live slot, then a block of `after` bytes: the run is walled off the top block.
   */
  function runBetween(before: number, after: number) {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const first = pool.alloc(before);
    const slot = pool.alloc(24);
    const last = pool.alloc(after);
    assert.ok(first < slot && slot < last, "carved one after the other");
    assert.equal(pool.stats().runs, 1);
    return { pool, first, slot, last };
  }

  /** A request of the TLSF tier whose block is Slot.FreeBeside bytes. */
  const beside = Slot.FreeBeside - Size.BlockHeader;
  /** A request of the TLSF tier whose block is smaller than that. */
  const small = Slot.Max + Size.Align;

  await t.step("a class's one run is given back when it empties beside a large free block", () => {
    const { pool, first, slot, last } = runBetween(beside, small);
    pool.free(first);
    pool.free(slot);
    assert.equal(pool.stats().runs, 0, "merged with the free block before it");
    assert.equal(pool.stats().freeBlocks, 2, "that block and the top block");
    pool.free(last);
    assertOneFreeBlock(pool);
  });

  await t.step("a class's one run is held when the free block beside it is small", () => {
    const { pool, first, slot, last } = runBetween(small, small);
    pool.free(first);
    pool.free(slot);
    assert.equal(pool.stats().runs, 1, "held");
    pool.free(last);
    assertOneFreeBlock(pool);
  });
});

Deno.test("the stats stay exact with slots", async (t) => {
  await t.step("bytesUsed counts a slot whole; the sum is the capacity", () => {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const fixed = pool.stats().metadataBytes;
    let used = 0;
    // Live slots per class.
    const live = new Map<number, number>();
    for (const size of [...SMALL_SIZES, ...SMALL_SIZES]) {
      const k = classOf(size);
      const offset = pool.alloc(size);
      // A run's header counts as used once the run holds a live slot, as a block's header does.
      if ((live.get(k) ?? 0) % slotsPerRun(k) === 0) used += RunField.Header;
      used += slotSize(k);
      live.set(k, (live.get(k) ?? 0) + 1);
      assert.equal(pool.bytesUsed(), used, `after ${size} bytes`);
      assert.equal(pool.sizeOf(offset), slotSize(k));
    }
    const large = pool.alloc(Slot.Max + 1);
    used += blockSizeFor(Slot.Max + 1);
    const stats = pool.stats();
    assert.equal(stats.bytesUsed, used);
    assert.equal(stats.bytesUsed + stats.bytesFree + stats.metadataBytes, stats.capacity);
    // Runs filled one after another, each holding a live slot: their headers are used (a fresh
    // pool's runs have no tails), their free slots free, and the metadata is what it was.
    let runs = 0;
    let slotsFree = 0;
    for (const [k, n] of live) {
      const count = Math.ceil(n / slotsPerRun(k));
      runs += count;
      slotsFree += (count * slotsPerRun(k) - n) * slotSize(k);
    }
    assert.equal(stats.runs, runs);
    assert.equal(stats.metadataBytes, fixed);
    assert.equal(stats.slotBytesFree, slotsFree);
    assert.equal(stats.liveBlocks, 2 * SMALL_SIZES.length + 1);
    pool.free(large);
    pool.check();
  });

  await t.step("an empty held run counts wholly as free", () => {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const empty = pool.stats();
    pool.free(pool.alloc(24));
    const stats = pool.stats();
    assert.equal(stats.runs, 1);
    assert.equal(stats.bytesFree, empty.bytesFree);
    assert.equal(stats.metadataBytes, empty.metadataBytes);
    assert.equal(stats.slotBytesFree, slotsPerRun(K24) * slotSize(K24));
  });

  await t.step("largestFreeBlock is exactly the largest free slot when no block is free", () => {
    for (const size of [Slot.Min, 100, Slot.Max]) {
      const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
      pool.alloc(size);
      assert.notEqual(pool.alloc(pool.largestFreeBlock()), 0);
      assert.equal(pool.stats().freeBlocks, 0);
      const slot = slotSize(classOf(size));
      assert.equal(pool.largestFreeBlock(), slot);
      assert.equal(pool.alloc(slot + 1), 0);
      assert.notEqual(pool.alloc(slot), 0);
      pool.check();
    }
  });

  await t.step("no false OOM: only a slot of a larger class is free, and it serves", () => {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const big = pool.alloc(Slot.Max);
    pool.alloc(pool.largestFreeBlock());
    assert.equal(pool.largestFreeBlock(), Slot.Max);
    const used = pool.bytesUsed();
    const small = pool.alloc(1);
    assert.notEqual(small, 0);
    assert.equal(small, big + Slot.Max, "the next slot of the 256-byte run");
    assert.equal(pool.sizeOf(small), Slot.Max);
    assert.equal(pool.bytesUsed(), used + Slot.Max);
    pool.check();
    pool.free(small);
    pool.check();
  });
});

Deno.test("resize and realloc move a block between the tiers and keep its bytes", async (t) => {
  await t.step("realloc, small to large and back", () => {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const keep = pool.alloc(40);
    for (const [from, to] of [[24, 1000], [1000, 24], [Slot.Max, Slot.Max + 1], [300, 8]]) {
      const offset = pool.alloc(from!);
      fillPattern(pool.buffer, offset, from!, 7);
      const moved = pool.realloc(offset, to!);
      assert.notEqual(moved, 0);
      assertPattern(pool.buffer, moved, Math.min(from!, to!), 7);
      assert.ok(pool.sizeOf(moved) >= to!);
      pool.check();
      pool.free(moved);
    }
    // Within its class a slot stays where it is; past it, it moves.
    const slot = pool.alloc(17);
    assert.equal(pool.realloc(slot, 24), slot);
    assert.notEqual(pool.realloc(slot, 25), slot);
    pool.free(keep);
    pool.check();
  });

  await t.step("Block resize, small to large and back", () => {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const block = pool.allocate(20)!;
    block.u8.set(Array.from({ length: 20 }, (_, i) => i + 1));
    const head = block.u8.slice();
    for (const length of [600, Slot.Max, 12, 20]) {
      assert.ok(pool.resize(block, length));
      assert.deepEqual(
        block.u8.slice(0, Math.min(12, length)),
        head.slice(0, Math.min(12, length)),
      );
      pool.check();
    }
    block.free();
    pool.check();
  });
});

Deno.test("small requests aligned above 8 bytes get their alignment", () => {
  const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
  pool.alloc(8);
  for (const align of [16, 32, 64, 256, 4096]) {
    for (const size of [1, 24, Slot.Max]) {
      const offset = pool.alloc(size, align);
      assert.equal(offset % align, 0, `${size} at ${align}`);
      fillPattern(pool.buffer, offset, size, align);
      const block = pool.allocate(size, { align })!;
      assert.equal(block.offset % align, 0);
      // Moved to another class, it keeps the alignment it asks for.
      const moved = pool.realloc(offset, size + 40, align);
      assert.equal(moved % align, 0);
      assertPattern(pool.buffer, moved, size, align);
      pool.check();
    }
  }
});

Deno.test("Block handles on slots", async (t) => {
  await t.step("allocate, resize within and across classes, free, dispose", () => {
    const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
    const blocks: Block[] = SMALL_SIZES.map((size) => pool.allocate(size)!);
    for (const block of blocks) {
      const info = [...pool.blocks()].find((b) => b.offset === block.offset)!;
      assert.equal(info.blockStart, block.offset, "a slot has no header");
      assert.equal(info.blockSize, slotSize(classOf(block.length)));
      assert.equal(pool.sizeOf(block.offset), info.blockSize);
      block.u8.fill(0xab);
    }
    for (const block of blocks) assert.ok(pool.resize(block, block.length + 8));
    for (const block of blocks) {
      assert.ok(block.u8.subarray(0, block.length - 8).every((byte) => byte === 0xab));
    }
    pool.check();
    {
      using scoped = pool.allocateOrThrow(24);
      scoped.u8.fill(1);
    }
    for (const block of blocks) block.free();
    assert.throws(() => blocks[0]!.free(), poolError("double-free"));
    assertOneFreeBlock(pool);
  });
});

Deno.test("debug mode works with slots", async (t) => {
  const debugPool = () => withWarmUp(0, () => Pool.create(POOL_BYTES, { debug: true }));

  await t.step("small blocks are slots, and leaks lists them", () => {
    const pool = debugPool();
    const kept = pool.allocate(24)!;
    pool.alloc(100);
    assert.ok(pool.stats().runs >= 2);
    assert.deepEqual(pool.leaks().map((leak) => leak.size), [100, 24]);
    assert.equal(pool.leaks()[1]!.offset, kept.offset);
    pool.check();
  });

  await t.step("a write past a slot's end is an overflow", () => {
    const pool = debugPool();
    const offset = pool.alloc(20);
    new Uint8Array(pool.buffer)[offset + 20] = 0;
    assert.throws(() => pool.check(), poolError("overflow"));
    assert.throws(() => pool.free(offset), poolError("overflow"));
  });

  await t.step("a freed slot is poisoned and quarantined, a write to it found", () => {
    const pool = debugPool();
    const offset = pool.alloc(20);
    pool.free(offset);
    assert.notEqual(pool.alloc(20), offset, "quarantined, not handed out again at once");
    assert.throws(() => pool.free(offset), poolError("double-free"));
    new Uint8Array(pool.buffer)[offset + 3] = 0;
    assert.throws(() => pool.check(), poolError("write-after-free"));
  });
});

Deno.test("a pool that grows past its map serves small requests beyond it", () => {
  const buffer = new ArrayBuffer(RunMap.MinPool, { maxByteLength: 8 * RunMap.MinPool });
  const pool = withWarmUp(0, () => new Pool(buffer));
  const offsets = [];
  while (offsets.length === 0 || offsets.at(-1)! < 2 * RunMap.MinPool) {
    const offset = pool.alloc(offsets.length % 2 === 0 ? 24 : 200);
    assert.notEqual(offset, 0);
    offsets.push(offset);
  }
  assert.ok(buffer.byteLength > 2 * RunMap.MinPool, "the pool grew");
  pool.check();
  // Past the map, a small block is a block of the TLSF tier: a header before it.
  const beyond = offsets.at(-1)!;
  const info = [...pool.blocks()].find((b) => b.offset === beyond)!;
  assert.equal(info.blockStart, beyond - Size.BlockHeader);
  for (const offset of offsets) pool.free(offset);
  pool.check();
  assert.equal(pool.bytesUsed(), 0);
});

Deno.test("a pool below 128 KiB has no runs", () => {
  const pool = Pool.create(RunMap.MinPool - Size.Align);
  for (const size of SMALL_SIZES) pool.alloc(size);
  const stats = pool.stats();
  assert.equal(stats.runs, 0);
  assert.equal(stats.slotBytesFree, 0);
  assert.equal(
    stats.bytesUsed,
    SMALL_SIZES.reduce((sum, size) => sum + blockSizeFor(size), 0),
  );
  const at = withWarmUp(0, () => Pool.create(RunMap.MinPool));
  at.alloc(8);
  assert.equal(at.stats().runs, 1);
});

Deno.test("a slot realloc'd to a size that grows a WebAssembly.Memory keeps its run's bits", () => {
  // Growing a WebAssembly.Memory detaches its old buffer, and every view of it.
  const memory = new WebAssembly.Memory({ initial: RunMap.MinPool / WASM_PAGE, maximum: 8 });
  const pool = withWarmUp(0, () => new Pool(memory));
  const slot = pool.alloc(24);
  const other = pool.alloc(24);
  fillPattern(pool.buffer, slot, 24, 3);
  assert.notEqual(pool.alloc(pool.largestFreeBlock()), 0);
  const slotsFree = pool.stats().slotBytesFree;
  const moved = pool.realloc(slot, Slot.Max + 1);
  assert.ok(pool.byteLength > RunMap.MinPool, "the memory grew");
  assertPattern(pool.buffer, moved, 24, 3);
  assert.equal(pool.stats().slotBytesFree, slotsFree + slotSize(K24));
  pool.check();
  pool.free(other);
  pool.free(moved);
  pool.check();
});

Deno.test("a Block's resize onto a damaged map entry completes; check() finds the damage", () => {
  const pool = Pool.create(POOL_BYTES);
  // Two blocks side by side (their classes are not warmed up: blocks, not slots), so that the
  // first grows by moving, to the start of the free space after the second.
  const block = pool.allocate(Slot.Max + 44)!;
  const after = pool.allocate(Slot.Max + 44)!;
  block.u8.fill(7);
  const moved = after.offset + blockSizeFor(after.length);
  const u8 = new Uint8Array(pool.buffer);
  // The map entry of the chunk it moves to names a run starting at that chunk's start: none does.
  const at = mapEntryOf(pool, moved);
  u8[at] = RunMap.Chunk / Slot.Step;
  // Once the block has moved, its old place is given up: a throw then would leave the caller
  // believing the block is where it was. Its own header vouches for it where it is now.
  assert.equal(pool.resize(block, 2000), true);
  assert.equal(block.offset, moved);
  assert.ok(block.u8.subarray(0, Slot.Max + 44).every((byte) => byte === 7));
  assert.throws(() => pool.check(), poolError("corrupt"));
  u8[at] = 0;
  pool.check();
  // The handle owns it: the raw path refuses it, and nothing else is placed over it.
  assert.throws(() => pool.free(block.offset), /payload of a Block/);
  const other = pool.alloc(2000);
  assert.ok(other + 2000 <= block.offset || other >= block.offset + block.length);
});

Deno.test("a Block whose free finds damage stays the handle's: raw free still refuses it", () => {
  const pool = withWarmUp(0, () => Pool.create(POOL_BYTES));
  // A full run of Blocks, then one in a second run, the head of the class's list.
  const blocks = Array.from({ length: slotsPerRun(K24) + 1 }, () => pool.allocate(24)!);
  const second = runOfFirstSlot(blocks.at(-1)!.offset);
  // Freeing a Block of the full run puts that run at the list's head, over the second run: with
  // the second's class damaged, that is corrupt, and nothing is freed.
  const u32 = new Uint32Array(pool.buffer);
  const info = (second + RunField.Info) >>> 2;
  const saved = u32[info]!;
  u32[info] = saved ^ (1 << RunInfo.ClassShift);
  assert.throws(() => blocks[0]!.free(), poolError("corrupt"));
  u32[info] = saved;
  assert.ok(blocks[0]!.live);
  assert.throws(() => pool.free(blocks[0]!.offset), /payload of a Block/);
  for (const block of blocks) block.free();
  pool.check();
  assert.equal(pool.bytesUsed(), 0);
});
