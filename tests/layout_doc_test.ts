// docs/layout.md against the code: every value it gives a layout enum member, its tables of
// the pool header, the block fields, the metadata, the runs tier's words, a run's header and the
// size classes, and the pictures src/engine/tlsf.ts and src/engine/runs.ts share.
import { withWarmUp } from "../tools/_oracle.ts";
import assert from "node:assert/strict";
import {
  Bins,
  firstBlockOffset,
  Flag,
  FreeField,
  HeaderF64,
  HeaderWord,
  headsEnd,
  metadataBytes,
  rowsFor,
  SentinelField,
  Size,
  UsedField,
  Value,
} from "../src/engine/tlsf.ts";
import {
  classOf,
  RunField,
  RunInfo,
  RunMap,
  runsMetadata,
  RunsWord,
  Slot,
  slotSize,
  slotsPerRun,
} from "../src/engine/runs.ts";
import { Pool } from "../mod.ts";
import { LAYOUT_DOC, numberIn, rangeIn, type Row, tableAfter, tables } from "./_layout_doc.ts";

const TLSF_SOURCE = Deno.readTextFileSync(new URL("../src/engine/tlsf.ts", import.meta.url));
const RUNS_SOURCE = Deno.readTextFileSync(new URL("../src/engine/runs.ts", import.meta.url));

/**
 * Every member of the enums the document describes, with its value in the code. Const enum
 * members are read one by one (no enum object exists to iterate); the test below checks this
 * list against the enum declarations, so a member added to the code must be added here too.
 */
const MEMBERS: Record<string, number> = {
  "HeaderWord.Magic": HeaderWord.Magic,
  "HeaderWord.Version": HeaderWord.Version,
  "HeaderWord.End": HeaderWord.End,
  "HeaderWord.Top": HeaderWord.Top,
  "HeaderWord.FlCount": HeaderWord.FlCount,
  "HeaderWord.FlBitmap": HeaderWord.FlBitmap,
  "HeaderWord.Largest": HeaderWord.Largest,
  "HeaderWord.FreeBlocks": HeaderWord.FreeBlocks,
  "HeaderWord.First": HeaderWord.First,
  "HeaderWord.Key": HeaderWord.Key,
  "HeaderWord.BytesUsed": HeaderWord.BytesUsed,
  "HeaderWord.PeakUsed": HeaderWord.PeakUsed,
  "HeaderWord.Allocations": HeaderWord.Allocations,
  "HeaderWord.Frees": HeaderWord.Frees,
  "HeaderWord.Failed": HeaderWord.Failed,
  "HeaderWord.Padding": HeaderWord.Padding,
  "HeaderWord.SlBitmaps": HeaderWord.SlBitmaps,
  "HeaderF64.Allocations": HeaderF64.Allocations,
  "HeaderF64.Frees": HeaderF64.Frees,
  "HeaderF64.Failed": HeaderF64.Failed,
  "Size.Word": Size.Word,
  "Size.Align": Size.Align,
  "Size.AlignLog2": Size.AlignLog2,
  "Size.BlockHeader": Size.BlockHeader,
  "Size.MinBlock": Size.MinBlock,
  "Size.MinPayload": Size.MinPayload,
  "Size.Sentinel": Size.Sentinel,
  "Size.PoolHeader": Size.PoolHeader,
  "Size.LargeBlock": Size.LargeBlock,
  "Flag.Free": Flag.Free,
  "Flag.PrevFree": Flag.PrevFree,
  "Flag.Unused": Flag.Unused,
  "Flag.Mask": Flag.Mask,
  "UsedField.Check": UsedField.Check,
  "FreeField.Next": FreeField.Next,
  "FreeField.Prev": FreeField.Prev,
  "FreeField.FooterFromEnd": FreeField.FooterFromEnd,
  "Bins.SlLog2": Bins.SlLog2,
  "Bins.SlCount": Bins.SlCount,
  "Bins.SmallLimit": Bins.SmallLimit,
  "Bins.SmallLimitLog2": Bins.SmallLimitLog2,
  "Value.Nil": Value.Nil,
  "Value.Magic": Value.Magic,
  "Value.Version": Value.Version,
  "Value.LargestStale": Value.LargestStale,
  "Value.CheckMul": Value.CheckMul,
  "Value.CheckFold": Value.CheckFold,
  "Value.Sentinel": Value.Sentinel,
  "Value.TailMark": Value.TailMark,
  "Value.HandleMark": Value.HandleMark,
  "SentinelField.Mark": SentinelField.Mark,
  "Slot.Min": Slot.Min,
  "Slot.Max": Slot.Max,
  "Slot.Step": Slot.Step,
  "Slot.StepLog2": Slot.StepLog2,
  "Slot.ClassBase": Slot.ClassBase,
  "Slot.Classes": Slot.Classes,
  "Slot.Target": Slot.Target,
  "Slot.NarrowMax": Slot.NarrowMax,
  "Slot.WideTarget": Slot.WideTarget,
  "Slot.MaxPerRun": Slot.MaxPerRun,
  "Slot.FreeBeside": Slot.FreeBeside,
  "Slot.Warm": Slot.Warm,
  "RunField.Info": RunField.Info,
  "RunField.Free": RunField.Free,
  "RunField.Handles": RunField.Handles,
  "RunField.Next": RunField.Next,
  "RunField.Prev": RunField.Prev,
  "RunField.Live": RunField.Live,
  "RunField.Header": RunField.Header,
  "RunInfo.ClassShift": RunInfo.ClassShift,
  "RunInfo.ClassMask": RunInfo.ClassMask,
  "RunInfo.CountShift": RunInfo.CountShift,
  "RunInfo.CountMask": RunInfo.CountMask,
  "RunInfo.DivisorShift": RunInfo.DivisorShift,
  "RunInfo.DivShift": RunInfo.DivShift,
  "RunInfo.Mark": RunInfo.Mark,
  "RunsWord.Classes": RunsWord.Classes,
  "RunsWord.Runs": RunsWord.Runs,
  "RunsWord.Overhead": RunsWord.Overhead,
  "RunsWord.SlotsFree": RunsWord.SlotsFree,
  "RunsWord.MapEnd": RunsWord.MapEnd,
  "RunsWord.Heads": RunsWord.Heads,
  "RunsWord.Asked": RunsWord.Asked,
  "RunsWord.Map": RunsWord.Map,
  "RunMap.ChunkLog2": RunMap.ChunkLog2,
  "RunMap.Chunk": RunMap.Chunk,
  "RunMap.MinPool": RunMap.MinPool,
};

/** The enums the document's introduction says it describes, with the source of each. */
const DOCUMENTED: [string, string][] = [
  ...["HeaderWord", "HeaderF64", "Size", "Flag", "UsedField", "FreeField", "Bins", "Value"]
    .map((name): [string, string] => [name, TLSF_SOURCE]),
  ["SentinelField", TLSF_SOURCE],
  ...["Slot", "RunField", "RunInfo", "RunsWord", "RunMap"]
    .map((name): [string, string] => [name, RUNS_SOURCE]),
];

/** Member names of `export const enum <name>` in the source, comments stripped. */
function declaredMembers(source: string, name: string): string[] {
  const body = new RegExp(`^export const enum ${name} \\{\\n([\\s\\S]*?)^\\}`, "m").exec(source);
  if (body === null) throw new Error(`no const enum ${name} in its source`);
  const code = body[1]!.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  return [...code.matchAll(/^\s*(\w+)\s*=/gm)].map((match) => `${name}.${match[1]}`);
}

/** A value the document gives a member: where, which member, and the value. */
type Statement = { where: string; name: string; value: number };

/**
 * Every value the document gives a member: "`Name.Member` = value" in its text, and each row
 * of a table with a `name` column and a `value` (or, for the pool header, `word`) column.
 */
function statements(doc: string): Statement[] {
  const found: Statement[] = [];
  const prose = /`(\w+\.\w+)`\s+=\s+`?(0x[0-9a-f]+|\d{1,3}(?: \d{3})*)\b`?/gi;
  for (const match of doc.matchAll(prose)) {
    found.push({ where: `text: ${match[0]}`, name: match[1]!, value: numberIn(match[2]!) });
  }
  for (const table of tables(doc)) {
    for (const row of table) {
      const name = /^`(\w+\.\w+)`$/.exec(row.name ?? "")?.[1];
      const value = row.value ?? row.word;
      if (name === undefined || value === undefined) continue;
      found.push({ where: `table row ${name}`, name, value: numberIn(value) });
    }
  }
  return found;
}

/** Member of a `HeaderWord.X` name cell, or undefined for "(none)". */
function headerMember(row: Row): string | undefined {
  return /^`HeaderWord\.(\w+)`$/.exec(row.name!)?.[1];
}

/** What the header table says, checked row by row against the enums; returns its problems. */
function headerTableProblems(rows: Row[]): string[] {
  const problems: string[] = [];
  let word = 0;
  const named = new Set<string>();
  for (const row of rows) {
    const at = numberIn(row.word!);
    const member = headerMember(row);
    if (at !== word) problems.push(`row ${row.name} is at word ${at}, not ${word}, the next one`);
    if (numberIn(row.byte!) !== at * Size.Word) {
      problems.push(`row ${row.name}: byte ${row.byte} is not word ${at} × ${Size.Word}`);
    }
    const f64 = member === undefined ? undefined : MEMBERS[`HeaderF64.${member}`];
    if (row.type === "f64") {
      if (f64 === undefined || f64 * 2 !== at) {
        problems.push(`row ${row.name} is an f64, but HeaderF64 has no element at word ${at}`);
      }
      word = at + 2;
    } else if (row.type === "u32") {
      if (f64 !== undefined) problems.push(`row ${row.name} is an f64 (HeaderF64), not a u32`);
      word = at + 1;
    } else {
      problems.push(`row ${row.name} has type ${row.type}, neither u32 nor f64`);
    }
    if (member !== undefined) named.add(`HeaderWord.${member}`);
  }
  if (word !== Size.PoolHeader / Size.Word) {
    problems.push(`the rows end at word ${word}, not at the header's end`);
  }
  for (const name of declaredMembers(TLSF_SOURCE, "HeaderWord")) {
    const after = MEMBERS[name]! >= Size.PoolHeader / Size.Word;
    if (!named.has(name) && !after) problems.push(`${name} has no row in the header table`);
  }
  return problems;
}

Deno.test("the test's list of enum members is the code's", () => {
  const declared = DOCUMENTED.flatMap(([name, source]) => declaredMembers(source, name));
  assert.deepEqual(declared.sort(), Object.keys(MEMBERS).sort());
});

Deno.test("every value docs/layout.md gives a layout enum member is the code's", () => {
  const found = statements(LAYOUT_DOC);
  const wrong = found.filter(({ name, value }) => MEMBERS[name] !== value)
    .map(({ where, name, value }) => `${where}: says ${value}, the code has ${MEMBERS[name]}`);
  assert.deepEqual(wrong, []);
  const unstated = Object.keys(MEMBERS).filter((name) => !found.some((s) => s.name === name));
  assert.deepEqual(unstated, [], "members the document gives no value");
});

Deno.test("the statement reader sees a changed value in the text or in a table", () => {
  const changed = [
    LAYOUT_DOC.replace("`Size.MinBlock` =\n16", "`Size.MinBlock` =\n24"),
    LAYOUT_DOC.replace("`Value.Magic` = `0x31414d4d`", "`Value.Magic` = `0x31414d4e`"),
    LAYOUT_DOC.replace(/(`Flag\.Unused` *\| *)4 /, "$18 "),
    LAYOUT_DOC.replace(/^(\| *)12( \| *)48( \| `HeaderWord\.Allocations`)/m, "$113$248$3"),
    LAYOUT_DOC.replace(/(\| `RunField\.Prev` *\| *)24 /, "$128 "),
    LAYOUT_DOC.replace("`RunMap.MinPool` = 131 072", "`RunMap.MinPool` = 65 536"),
  ];
  for (const doc of changed) {
    assert.notEqual(doc, LAYOUT_DOC, "the change applies");
    assert.ok(statements(doc).some(({ name, value }) => MEMBERS[name] !== value));
  }
});

Deno.test("the pool header table covers the 80-byte header word by word, as HeaderWord does", async (t) => {
  const heading = "## Pool header (";
  const rows = tableAfter(LAYOUT_DOC, heading);
  const size = /^## Pool header \((\d+) bytes, `Size\.PoolHeader`\)$/m.exec(LAYOUT_DOC);
  assert.equal(Number(size?.[1]), Size.PoolHeader);

  await t.step("as written", () => assert.deepEqual(headerTableProblems(rows), []));

  await t.step("a row moved, dropped, or retyped is found", () => {
    const moved = rows.map((row) => row.name === "`HeaderWord.Key`" ? { ...row, byte: "40" } : row);
    assert.ok(headerTableProblems(moved).some((p) => p.includes("byte 40")));
    const dropped = rows.filter((row) => row.name !== "`HeaderWord.PeakUsed`");
    assert.ok(headerTableProblems(dropped).some((p) => p.includes("HeaderWord.PeakUsed")));
    const retyped = rows.map((row) =>
      row.name === "`HeaderWord.Frees`" ? { ...row, type: "u32" } : row
    );
    assert.ok(headerTableProblems(retyped).length > 0);
  });
});

Deno.test("the flags table gives each flag its own low bit, all under Size.Align", () => {
  const rows = tableAfter(LAYOUT_DOC, "A block's first word holds its size and flags");
  let all = 0;
  for (const row of rows.filter((row) => /^\d+$/.test(row.bit!))) {
    const value = MEMBERS[row.name!.replaceAll("`", "")]!;
    assert.equal(value, 2 ** numberIn(row.bit!), row.name);
    all |= value;
  }
  const mask = rows.find((row) => row.name === "`Flag.Mask`")!;
  assert.deepEqual(rangeIn(mask.bit!), [0, Size.AlignLog2 - 1]);
  assert.equal(Flag.Mask, all);
  assert.equal(Flag.Mask, Size.Align - 1);

  // The bit picture above the table, read right to left, names bits 0, 1, 2 with the letters.
  const picture = LAYOUT_DOC.split("\n").find((line) => /│ \w │ \w │ \w │$/.test(line))!;
  const letters = picture.split("│").map((cell) => cell.trim()).filter((cell) => /^\w$/.test(cell));
  const byBit = rows.filter((row) => row.letter !== "")
    .sort((a, b) => numberIn(b.bit!) - numberIn(a.bit!)).map((row) => row.letter);
  assert.deepEqual(letters, byBit);
});

Deno.test("the block fields table puts each field where its enum value says", () => {
  const rows = tableAfter(LAYOUT_DOC, "The fields after the first word");
  assert.deepEqual(rows.map((row) => row.name), [
    "`UsedField.Check`",
    "`FreeField.Next`",
    "`FreeField.Prev`",
    "`FreeField.FooterFromEnd`",
  ]);
  for (const row of rows) {
    const value = MEMBERS[row.name!.replaceAll("`", "")]!;
    const fromStart = /^b\+(\d+) … b\+(\d+)$/.exec(row.field!);
    const fromEnd = /^b\+size-(\d+) … b\+size$/.exec(row.field!);
    if (fromStart !== null) {
      const [start, end] = [Number(fromStart[1]), Number(fromStart[2])];
      assert.equal(start, value, row.name);
      assert.equal(end - start, Size.Word, row.name);
      // A used block's fields are in its header; a free block's links fit the smallest block.
      const room = row.in === "used block"
        ? Size.BlockHeader
        : Size.MinBlock - FreeField.FooterFromEnd;
      assert.ok(end <= room, `${row.name} ends at ${end}, past ${room}`);
    } else {
      assert.ok(fromEnd !== null, `${row.name}: field "${row.field}"`);
      assert.equal(Number(fromEnd[1]), value, row.name);
      assert.equal(value, Size.Word, row.name);
    }
  }
});

Deno.test("the metadata table is what rowsFor, firstBlockOffset, runsMetadata and a pool give", () => {
  const rows = tableAfter(LAYOUT_DOC, "| pool bytes |");
  assert.ok(rows.length >= 2);
  const paddings = new Set<number>();
  let withRuns = 0;
  for (const row of rows) {
    const bytes = numberIn(row["pool bytes"]!);
    const n = rowsFor(bytes);
    assert.equal(numberIn(row.rows!), n, row["pool bytes"]);
    const bitmapsEnd = Size.PoolHeader + n * Size.Word;
    const headsEnd = bitmapsEnd + n * Bins.SlCount * Size.Word;
    assert.deepEqual(rangeIn(row["sl bitmaps"]!), [Size.PoolHeader, bitmapsEnd - 1]);
    assert.deepEqual(rangeIn(row["bin heads"]!), [bitmapsEnd, headsEnd - 1]);
    const reserved = runsMetadata(bytes - Size.Sentinel);
    if (reserved === 0) {
      assert.equal(row["runs tier"], "none", row["pool bytes"]);
      assert.equal(numberIn(row["metadata bytes"]!), metadataBytes(n));
    } else {
      assert.deepEqual(rangeIn(row["runs tier"]!), [headsEnd, headsEnd + reserved - 1]);
      withRuns++;
    }
    const first = firstBlockOffset(n, reserved);
    assert.equal(numberIn(row.padding!), first - headsEnd - reserved);
    assert.equal(numberIn(row["`First`"]!), first);
    assert.equal(numberIn(row["metadata bytes"]!), first + Size.Sentinel);
    if (bytes <= MAX_MADE_HERE) {
      assert.equal(
        Pool.create(bytes).stats().metadataBytes,
        first + Size.Sentinel,
        row["pool bytes"],
      );
    }
    paddings.add(numberIn(row.padding!));
  }
  assert.deepEqual([...paddings].sort(), [0, Size.Word], "the table shows both paddings");
  assert.ok(withRuns > 0 && withRuns < rows.length, "the table shows pools with and without runs");
});

/** The largest pool the metadata test makes to read its stats. */
const MAX_MADE_HERE = 1 << 20;
/** The largest value of a map entry, a byte. */
const BYTE_MAX = 255;

Deno.test("the runs tier's words table covers them word by word, as RunsWord does", () => {
  const rows = tableAfter(LAYOUT_DOC, "The words, by their index from the first");
  const named = rows.map((row) => row.name!.replaceAll("`", ""));
  assert.deepEqual(named, declaredMembers(RUNS_SOURCE, "RunsWord"));
  let word = 0;
  for (const row of rows) {
    const value = MEMBERS[row.name!.replaceAll("`", "")]!;
    assert.equal(value, word, `${row.name} is the next word`);
    const [start, end] = row.bytes!.split(/\s*…\s*/).map((at) => /^H(?:\+(\d+))?$/.exec(at));
    assert.equal(Number(start?.[1] ?? 0), value * Size.Word, row.name);
    if (value === RunsWord.Map) {
      assert.match(row.bytes!, /…$/, "the map runs on to the padding");
      continue;
    }
    const words = value === RunsWord.Heads || value === RunsWord.Asked ? Slot.Classes : 1;
    assert.equal(Number(end?.[1]), (value + words) * Size.Word, row.name);
    word += words;
  }
});

Deno.test("the run header table puts each field where RunField says, word after word", () => {
  const rows = tableAfter(LAYOUT_DOC, "A run is a used block of the TLSF tier whose first");
  let at = 0;
  for (const row of rows) {
    const name = row.name!.replaceAll("`", "");
    const value = MEMBERS[name] ?? numberIn(row.value!);
    assert.equal(value, at, `${row.name} starts where the field before it ends`);
    const field = /^r(?:\+(\d+))?(?: … r\+(\d+))?$/.exec(row.field!);
    assert.ok(field !== null, `${row.name}: field "${row.field}"`);
    assert.equal(Number(field[1] ?? 0), value, row.name);
    if (name === "RunField.Header") {
      assert.equal(field[2], undefined, "the header's end is a place, not a field");
      assert.equal(rows.at(-1), row, "the header's end comes last");
      continue;
    }
    assert.equal(Number(field[2]) - value, Size.Word, row.name);
    at += Size.Word;
  }
  assert.equal(at, RunField.Header);
  // Every RunField member has its row; the first two words are a used block's header.
  const names = rows.map((row) => row.name!.replaceAll("`", ""));
  for (const member of declaredMembers(RUNS_SOURCE, "RunField")) assert.ok(names.includes(member));
  assert.equal(names[1], "UsedField.Check");
});

Deno.test("the size classes table is what classOf, slotSize and slotsPerRun give", () => {
  const rows = tableAfter(LAYOUT_DOC, "| class | requests");
  assert.deepEqual(rows.map((row) => numberIn(row.class!)), [...Array(Slot.Classes).keys()]);
  for (const row of rows) {
    const k = numberIn(row.class!);
    const [lo, hi] = rangeIn(row.requests!);
    assert.equal(numberIn(row["slot bytes"]!), slotSize(k), `class ${k}`);
    assert.equal(numberIn(row["slots per run"]!), slotsPerRun(k), `class ${k}`);
    assert.equal(numberIn(row["slot bytes in a run"]!), slotsPerRun(k) * slotSize(k));
    assert.equal(numberIn(row["run bytes"]!), RunField.Header + slotsPerRun(k) * slotSize(k));
    assert.equal(hi, slotSize(k), `class ${k}: its largest request fills its slot`);
    assert.equal(classOf(lo), k, `class ${k}: ${lo} bytes`);
    assert.equal(classOf(hi), k, `class ${k}: ${hi} bytes`);
    if (lo > 0) assert.equal(classOf(lo - 1), k - 1, `class ${k}: ${lo - 1} bytes are not in it`);
  }
  assert.equal(rows.at(-1)!.requests!.split(" … ")[1], String(Slot.Max));
  // The map's entries count 8-byte units of a run's length in a byte; a run outgrows a chunk.
  const runs = rows.map((row) => numberIn(row["run bytes"]!));
  assert.ok(Math.min(...runs) > RunMap.Chunk, "every run is longer than a chunk");
  // A run is at most its slots, its header and a remainder of 8 bytes the TLSF tier gave it.
  assert.ok((Math.max(...runs) + Size.Align) / Slot.Step <= BYTE_MAX, "an entry fits a byte");
});

Deno.test("the 128 KiB pool after allocate(100) holds what the document says", () => {
  const heading = "### A 128 KiB pool after `allocate(100)`";
  const buffer = new ArrayBuffer(RunMap.MinPool);
  const pool = withWarmUp(0, () => new Pool(buffer));
  const offset = pool.alloc(100);
  const u32 = new Uint32Array(buffer);
  const u8 = new Uint8Array(buffer);
  const rows = tableAfter(LAYOUT_DOC, heading);
  assert.ok(rows.length > 10);
  for (const row of rows.filter((row) => !row.value!.startsWith("`"))) {
    const at = numberIn(row.byte!);
    const value = row.field!.includes("(`u8`)") ? u8[at] : u32[at / Size.Word];
    assert.equal(value, numberIn(row.value!), `byte ${row.byte}, ${row.field}`);
  }
  // Every other map entry is 0: those in the table are the run's.
  const map = headsEnd(u32[HeaderWord.FlCount]!) + RunsWord.Map * Size.Word;
  const entries = u8.subarray(
    map,
    map + Math.ceil((RunMap.MinPool - Size.Sentinel) / RunMap.Chunk),
  );
  const mapRows = rows.filter((row) => row.field!.includes("(`u8`)"));
  assert.equal(entries.filter((entry) => entry !== 0).length, mapRows.length);
  // The prose after the table, its lines joined.
  const text = LAYOUT_DOC.slice(LAYOUT_DOC.indexOf(heading)).replace(/\s+/g, " ");
  const said =
    /`allocate\(100\)` returns ([\d ]+?), slot 0's offset; `stats\(\)` says ([\d ]+?) bytes used \(the slot's ([\d ]+?) and the run's 32-byte header\), ([\d ]+?) of metadata, and ([\d ]+?) free/
      .exec(text);
  assert.ok(said !== null, "the sentence after the table");
  const stats = pool.stats();
  assert.deepEqual(said.slice(1).map(numberIn), [
    offset,
    stats.bytesUsed,
    stats.bytesUsed - RunField.Header,
    stats.metadataBytes,
    stats.bytesFree,
  ]);
});

/** The pictures in the source's comments: runs of comment lines that draw a box. */
function pictures(source: string): string[] {
  const found: string[] = [];
  let run: string[] = [];
  for (const line of [...source.split("\n"), ""]) {
    const comment = /^\/\/ (.+)$/.exec(line)?.[1];
    if (comment !== undefined) {
      run.push(comment);
      continue;
    }
    if (run.some((text) => text.includes("┌"))) found.push(run.join("\n"));
    run = [];
  }
  return found;
}

Deno.test("the pictures in src/engine/tlsf.ts and src/engine/runs.ts are docs/layout.md's", () => {
  const drawn = pictures(TLSF_SOURCE);
  assert.ok(drawn.some((picture) => picture.includes("pool header")), "the pool's picture");
  const runs = pictures(RUNS_SOURCE);
  assert.ok(runs.some((picture) => picture.includes("live")), "a run's picture");
  assert.ok(runs.some((picture) => picture.includes("slotsFree")), "the runs tier's words");
  for (const picture of [...drawn, ...runs]) assert.ok(LAYOUT_DOC.includes(picture), picture);
});
