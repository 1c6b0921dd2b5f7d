// The size classes, pinned to docs/layout.md's bins table rather than to binIndex itself, and
// check()'s bin test, which must catch a mapping that files blocks in the wrong bin.
import assert from "node:assert/strict";
import { PoolError } from "../mod.ts";
import { checkPool } from "../src/engine/check.ts";
import { Bins, HeaderWord, rowsFor, Size, Tlsf } from "../src/engine/tlsf.ts";
import { LAYOUT_DOC, numberIn, rangeIn, tableAfter } from "./_layout_doc.ts";

/** One row of the bins table: its sizes (both ends included), bin width and bins. */
type BinRow = { row: number; low: number; high: number; width: number; first: number };

const TABLE = tableAfter(LAYOUT_DOC, "Every row, with each row's first and last bins");

const ROWS: BinRow[] = TABLE.map((cells) => {
  const [low, high] = rangeIn(cells.sizes!);
  const [first, last] = rangeIn(cells.bins!);
  assert.equal(last - first + 1, Bins.SlCount, `row ${cells.row}: a row has SlCount bins`);
  return { row: numberIn(cells.row!), low, high, width: numberIn(cells["bin width"]!), first };
});

/** The table's examples, "size → bin". */
const EXAMPLES: [number, number][] = TABLE.flatMap((cells) =>
  cells["e.g. size → bin"]!.split(";").filter((text) => text.trim() !== "").map((text) => {
    const [size, bin] = text.replace(/\(.*\)/, "").split("→");
    return [numberIn(size!), numberIn(bin!)] as [number, number];
  })
);

/** An engine of `rows` rows over 4 KiB: binIndex reads only the rows, not the pool's size. */
function engine(rows: number): Tlsf {
  const bytes = 4096;
  return new Tlsf(new ArrayBuffer(bytes), 0, bytes, rows);
}

Deno.test("the bins table tiles every size below 2^32 with rows of SlCount equal bins", () => {
  assert.deepEqual(ROWS.map((r) => r.row), ROWS.map((_, i) => i));
  // A 4 GiB pool has 25 rows; the table must show every one of them.
  assert.equal(ROWS.length, rowsFor(2 ** 32));
  let next = 0;
  for (const { row, low, high, width, first } of ROWS) {
    assert.equal(low, next, `row ${row} starts where the last row ended`);
    assert.equal(high - low + 1, Bins.SlCount * width, `row ${row} is SlCount bins wide`);
    assert.equal(first, row * Bins.SlCount, `row ${row}'s first bin`);
    next = high + 1;
  }
  assert.equal(next, 2 ** 32);
  assert.ok(EXAMPLES.length >= 12, "the examples are read");
});

Deno.test("binIndex puts every bin boundary of the table where the table does", () => {
  const tlsf = engine(ROWS.length);
  const wrong: string[] = [];
  const expect = (size: number, bin: number) => {
    const got = tlsf.binIndex(size);
    if (got !== bin) wrong.push(`${size} → ${got}, the table says ${bin}`);
  };
  for (const { low, width, first } of ROWS) {
    for (let sl = 0; sl < Bins.SlCount; sl++) {
      const start = low + sl * width;
      expect(start, first + sl);
      expect(start + width - 1, first + sl);
      // The last block size (a multiple of Size.Align) in the bin, where it differs.
      expect(start + width - Size.Align, first + sl);
      if (start > 0) expect(start - 1, first + sl - 1);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("binIndex gives the table's examples", () => {
  const tlsf = engine(ROWS.length);
  for (const [size, bin] of EXAMPLES) assert.equal(tlsf.binIndex(size), bin, `${size}`);
});

Deno.test("a pool's last bin takes any size beyond its last row", () => {
  // A 4 KiB pool has 5 rows (the metadata table), bins 0 … 159; row 5 would start at 4 096.
  const tlsf = engine(5);
  const lastRow = ROWS[4]!;
  assert.equal(tlsf.binIndex(lastRow.high), lastRow.first + Bins.SlCount - 1);
  assert.equal(tlsf.binIndex(lastRow.high + 1), lastRow.first + Bins.SlCount - 1);
  assert.equal(tlsf.binIndex(2 ** 32 - Size.Align), lastRow.first + Bins.SlCount - 1);
});

/** A Tlsf whose mapping is off by `shift` bins for sizes in [from, to). */
function misfiling(from: number, to: number, shift: number): typeof Tlsf {
  return class extends Tlsf {
    override binIndex(size: number): number {
      const bin = super.binIndex(size);
      return size >= from && size < to ? bin + shift : bin;
    }
  };
}

/** A pool with a free block of `size` bytes filed in a bin, between two used blocks. */
function poolWithFreeBlock(Engine: typeof Tlsf, size: number): Tlsf {
  const bytes = 65536;
  const tlsf = new Engine(new ArrayBuffer(bytes), 0, bytes, rowsFor(bytes));
  const freed = tlsf.allocate(size - Size.BlockHeader);
  tlsf.allocate(Size.MinPayload);
  assert.equal(tlsf.free(freed), 0);
  return tlsf;
}

Deno.test("check() finds a free block that binIndex filed in the wrong bin", async (t) => {
  // Block sizes in row 0, at the low and high ends of row 1, in row 2 (1 000 in 992 … 1 007)
  // and row 5: each misfiled one bin up and one down.
  for (const size of [24, 256, 504, 1000, 5000]) {
    for (const shift of [1, -1]) {
      await t.step(`a block of ${size} bytes, ${shift} bin away`, () => {
        assert.doesNotThrow(() => checkPool(poolWithFreeBlock(Tlsf, size)));
        const tlsf = poolWithFreeBlock(misfiling(size, size + 1, shift), size);
        assert.throws(
          () => checkPool(tlsf),
          (e) => e instanceof PoolError && e.code === "corrupt" && e.message.includes(`${size}`),
        );
      });
    }
  }
});

Deno.test("check() accepts a pool with free blocks in bins of thirteen rows", () => {
  // Sizes from 1 byte to just under 1 MiB by steps of about 10%, so that every row from 0 up to
  // row 12 (524 288 … 1 048 575 in the bins table) gets at least one: about 11 MiB in all, which
  // a 16 MiB pool holds. Each block gets a used neighbour so that freeing it files it in its
  // bin instead of merging it: small blocks are carved from the top block's front, large ones
  // (Size.LargeBlock and up) from its end, so a large block's neighbour must be large too.
  const bytes = 1 << 24;
  const tlsf = new Tlsf(new ArrayBuffer(bytes), 0, bytes, rowsFor(bytes));
  const freed: number[] = [];
  for (let size = 1; size < 2 ** 20; size = Math.ceil(size * 1.1)) {
    freed.push(tlsf.allocate(size));
    const neighbour = size < Size.LargeBlock ? Size.MinPayload : Size.LargeBlock;
    assert.notEqual(tlsf.allocate(neighbour), 0);
  }
  assert.ok(!freed.includes(0));
  for (const payload of freed) assert.equal(tlsf.free(payload), 0);
  // Other blocks may be free too (the top block's front, left in the bins when the first large
  // block was carved from its end), but each of rows 0 to 12 has one of the freed blocks.
  const rows = tlsf.u32[HeaderWord.FlBitmap]!;
  assert.equal(rows & (2 ** 13 - 1), 2 ** 13 - 1, `rows with free blocks: ${rows.toString(2)}`);
  checkPool(tlsf);
});
