import assert from "node:assert/strict";

/** Runs an example as its own program, as its doc comment says to, and returns what it printed. */
async function run(example: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", new URL(`../examples/${example}`, import.meta.url).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, `${example} failed:\n${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

Deno.test("the WebAssembly example sums blocks of the pool in WebAssembly, by offset", async () => {
  const out = await run("wasm_memory.ts");
  // 1 + 2 + ... + 1000, and 0.5 + 1.5 + 2.5 + 3.5, summed by the module from the pool's bytes.
  assert.match(out, /sum of 1\.\.1000 in WebAssembly, read from block \d+: 500500\n/);
  assert.match(out, /sum of a Block's f64 view: 8\n/);
  assert.match(out, /after freeing both: 0 bytes used\n/);
  // The pool manages memory from the second page on: its blocks' pointers are past it.
  const ptr = Number(/read from block (\d+)/.exec(out)![1]);
  assert.ok(ptr >= 65536, `block ${ptr} lies in the module's first page`);
});

Deno.test("the sizing example finds a pool its own recording fits in", async () => {
  const out = await run("size_a_pool.ts");
  const live = Number(/at most (\d+) bytes live/.exec(out)![1]);
  const pool = Number(/smallest pool that replays them: (\d+) bytes/.exec(out)![1]);
  assert.ok(pool > live, `a pool of ${pool} bytes for ${live} live bytes`);
  assert.match(out, new RegExp(`replayed in ${pool} bytes: fits\n`));
});
