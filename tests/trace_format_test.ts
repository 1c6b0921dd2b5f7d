import assert from "node:assert/strict";
import { parseTrace, type Trace, TraceError } from "../trace.ts";

const SAMPLE = [
  "# sample: every kind of line",
  "a 0 100",
  "a 1 24 64",
  "r 0 0 300",
  "# a comment between operations",
  "f 1",
  "r 0 7 12",
  "a 1 0",
  "f 7",
  "",
].join("\n");

const encoder = new TextEncoder();

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A stream that hands over `bytes` in pieces of `size` bytes, cutting lines and numbers apart. */
function trickle(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

function columns(trace: Trace) {
  const { length, ops, ids, newIds, sizes, aligns, idCount } = trace;
  return {
    length,
    ops: String.fromCharCode(...ops),
    ids: [...ids],
    newIds: [...newIds],
    sizes: [...sizes],
    aligns: [...aligns],
    idCount,
  };
}

/** Asserts that parsing `text` fails on `line` with a message that includes `fragment`. */
async function assertBadLine(text: string, line: number, fragment: string): Promise<void> {
  const name = "bad.trace";
  await assert.rejects(parseTrace(text, { name }), (error) => {
    assert.ok(error instanceof TraceError, `expected a TraceError, got ${error}`);
    assert.equal(error.file, name);
    assert.equal(error.line, line);
    assert.ok(error.message.startsWith(`${name}:${line}: `), error.message);
    assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    return true;
  });
}

Deno.test("parseTrace reads each operation into its columns", async (t) => {
  await t.step("every kind of line lands in the typed arrays", async () => {
    const trace = await parseTrace(SAMPLE, { name: "sample" });
    assert.equal(trace.name, "sample");
    assert.equal(trace.description, "sample: every kind of line");
    assert.deepEqual(columns(trace), {
      length: 7,
      ops: "aarfraf",
      ids: [0, 1, 0, 1, 0, 1, 7],
      newIds: [0, 1, 0, 1, 7, 1, 7],
      sizes: [100, 24, 300, 0, 12, 0, 0],
      aligns: [0, 64, 0, 0, 0, 0, 0],
      idCount: 8,
    });
  });

  await t.step("an r line may give an alignment, as an a line may", async () => {
    const trace = await parseTrace("a 0 8\nr 0 0 100 256\nr 0 3 50\nr 3 3 60 1\n");
    assert.deepEqual(columns(trace), {
      length: 4,
      ops: "arrr",
      ids: [0, 0, 0, 3],
      newIds: [0, 0, 3, 3],
      sizes: [8, 100, 50, 60],
      aligns: [0, 256, 0, 1],
      idCount: 4,
    });
  });

  await t.step(
    "CRLF line ends, tabs, repeated spaces and a last line without newline are fine",
    async () => {
      const trace = await parseTrace("a 0 8\r\na\t1  16\r\nf 0");
      assert.equal(String.fromCharCode(...trace.ops), "aaf");
      assert.deepEqual([...trace.sizes], [8, 16, 0]);
    },
  );

  await t.step(
    "a trace with no operations is empty, and has no description without a comment",
    async () => {
      const trace = await parseTrace("");
      assert.equal(trace.length, 0);
      assert.equal(trace.description, "");
      assert.equal(trace.idCount, 0);
    },
  );

  await t.step(
    "bytes, gzip bytes and streams cut anywhere give the same trace as text",
    async () => {
      const expected = columns(await parseTrace(SAMPLE));
      const plain = encoder.encode(SAMPLE);
      const packed = await gzip(SAMPLE);
      assert.deepEqual(columns(await parseTrace(plain)), expected);
      assert.deepEqual(columns(await parseTrace(plain.buffer)), expected);
      assert.deepEqual(columns(await parseTrace(packed)), expected);
      for (const size of [1, 2, 3, 7, 64]) {
        assert.deepEqual(columns(await parseTrace(trickle(plain, size))), expected);
        assert.deepEqual(columns(await parseTrace(trickle(packed, size))), expected);
      }
    },
  );

  await t.step("text is read whole, even a character cut by the encoding's chunks", async () => {
    // Text is encoded 65,536 characters at a time; after "# ", the emoji straddles the cut.
    const description = "x".repeat(65_533) + "😀 end";
    const trace = await parseTrace(`# ${description}\na 0 8\n`);
    assert.equal(trace.description, description);
    assert.equal(trace.length, 1);
  });

  await t.step("a large trace keeps every operation", async () => {
    const count = 200_000;
    const lines = ["# many"];
    for (let i = 0; i < count / 2; i++) lines.push(`a ${i % 50} ${i}`, `f ${i % 50}`);
    const trace = await parseTrace(lines.join("\n"));
    assert.equal(trace.length, count);
    assert.equal(trace.sizes[count - 2], count / 2 - 1);
    assert.equal(trace.idCount, 50);
  });
});

Deno.test("parseTrace names the trace and the line of every fault", async (t) => {
  await t.step("an unknown operation", async () => {
    await assertBadLine("# x\na 0 8\nx 0\n", 3, 'unknown operation "x"');
    await assertBadLine("alloc 0 8\n", 1, 'unknown operation "alloc"');
  });

  await t.step("missing and extra fields", async () => {
    await assertBadLine(
      "a 0 8\na 1\n",
      2,
      '"a" takes <id> <size> [<align>], but the line has 1 number',
    );
    await assertBadLine("a 0 8\nf\n", 2, '"f" takes <id>, but the line has 0 numbers');
    await assertBadLine(
      "a 0 8\nr 0 0\n",
      2,
      '"r" takes <id> <newid> <size> [<align>], but the line has 2 numbers',
    );
    await assertBadLine("a 0 8\nr 0 0 8 8 8\n", 2, "the line has 5 numbers");
    await assertBadLine("a 0 8\nf 0 0\n", 2, '"f" takes <id>, but the line has 2 numbers');
    await assertBadLine("a 0 8 8 8\n", 1, "the line has 4 numbers");
  });

  await t.step("an empty line", async () => {
    await assertBadLine("a 0 8\n\nf 0\n", 2, "empty line");
  });

  await t.step("numbers that are not whole, or negative", async () => {
    await assertBadLine("a 0 12.5\n", 1, 'size "12.5" is not a whole number');
    await assertBadLine("a 0 8\nf x\n", 2, 'id "x" is not a whole number');
    await assertBadLine("a 0 -3\n", 1, 'size "-3" is negative');
    await assertBadLine("a 0 8\nr 0 -1 8\n", 2, 'newid "-1" is negative');
    await assertBadLine("a 0 1e3\n", 1, 'size "1e3" is not a whole number');
    await assertBadLine("a 0 8\nr 0 0 16 x\n", 2, 'align "x" is not a whole number');
    await assertBadLine("a 0 8\nr 0 0 16 -8\n", 2, 'align "-8" is negative');
  });

  await t.step("numbers out of range", async () => {
    await assertBadLine("a 0 4294967296\n", 1, "size 4294967296 is above");
    await assertBadLine("a 4000000000 8\n", 1, "id 4000000000 is above");
    await assertBadLine("a 0 8 48\n", 1, "align 48 is not a power of two");
    await assertBadLine("a 0 8 0\n", 1, "align 0 is not a power of two");
    await assertBadLine("# t\na 0 8\nr 0 0 16 48\n", 3, "align 48 is not a power of two");
    await assertBadLine("a 0 8\nr 0 0 16 0\n", 2, "align 0 is not a power of two");
    await assertBadLine("a 0 8\nr 0 0 16 4294967296\n", 2, "align 4294967296 is not a power");
  });

  await t.step("operations on blocks that are not live", async () => {
    await assertBadLine("a 0 8\nf 1\n", 2, "free of block 1, which is not live");
    await assertBadLine("a 0 8\nf 0\nf 0\n", 3, "free of block 0, which is not live");
    await assertBadLine("a 0 8\nr 3 3 16\n", 2, "resize of block 3, which is not live");
  });

  await t.step("an id allocated twice while live", async () => {
    await assertBadLine(
      "# t\na 0 8\na 1 8\na 0 16\n",
      4,
      "block 0 is allocated again while live (it was allocated on line 2)",
    );
    await assertBadLine("a 0 8\na 1 8\nr 0 1 16\n", 3, "block 1 is allocated again while live");
  });

  await t.step("the line is quoted in the message", async () => {
    await assertBadLine("a 0 8\nf 0 zz\n", 2, '"f 0 zz"');
  });

  await t.step("the first bad line is the one reported, across stream chunks", async () => {
    const text = "a 0 8\nf 0\na 0 8\nq 1\nz 2\n";
    await assert.rejects(
      parseTrace(trickle(encoder.encode(text), 3), { name: "chunked" }),
      (error) => error instanceof TraceError && error.message.startsWith("chunked:4: "),
    );
  });

  await t.step("damaged gzip data is an error naming the trace", async () => {
    const packed = await gzip(SAMPLE.repeat(50));
    const cut = packed.slice(0, packed.length >> 1);
    await assert.rejects(
      parseTrace(cut, { name: "cut.trace.gz" }),
      (error) => error instanceof TraceError && error.file === "cut.trace.gz" && error.line === 0,
    );
  });
});
