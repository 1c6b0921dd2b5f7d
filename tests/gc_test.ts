import assert from "node:assert/strict";

/** A line of V8's --trace-gc output: "[pid:isolate]  123 ms: Scavenge ...". */
const GC_LINE = /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: /;
/** The reason V8 gives for a collection forced by gc(). */
const FORCED = /\btesting\b/;

Deno.test("a million raw alloc/free pairs make no garbage: no collection runs during them", async () => {
  const child = new URL("./gc_child.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--trace-gc,--expose-gc", child.href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `the child failed:\n${err}`);
  assert.match(err, /gc_child: measuring\ngc_child: done/);

  // The two forced collections bracket the measured run.
  const gcLines = out.split("\n").filter((line) => GC_LINE.test(line));
  const forced = gcLines.flatMap((line, i) => FORCED.test(line) ? [i] : []);
  assert.equal(forced.length, 2, `expected the child's two gc() calls in:\n${out}`);
  const during = gcLines.slice(forced[0]! + 1, forced[1]!);
  assert.equal(
    during.length,
    0,
    `collections ran while the pool was in use:\n${during.slice(0, 5).join("\n")}`,
  );
});
