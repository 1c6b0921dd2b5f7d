import assert from "node:assert/strict";
import { heapMap } from "../mod.ts";
import { runProgram } from "../examples/c_malloc/host.ts";
import { buildProgram, haveToolchain } from "../examples/c_malloc/build.ts";

const WASM = new URL("../examples/c_malloc/program.wasm", import.meta.url);

Deno.test("the C program runs its heap on a pool over its own memory, and checks its results", async () => {
  const run = await runProgram();
  assert.equal(run.stderr, "");
  assert.equal(run.status, 0);
  assert.match(run.stdout, /^c_malloc: 12 checks, 0 failed; settings "kept until exit"\n$/);
  const stats = run.pool.stats();
  // Its 20 000 keys and entries, 50 000 numbers, 5 000 nodes and their payloads.
  assert.ok(stats.allocations > 50_000, `${stats.allocations} allocations`);
  // Only the settings block is left: 1234 bytes in a block of 1248.
  assert.equal(stats.liveBlocks, 1);
  assert.equal(stats.bytesUsed, 1248);
  assert.ok(stats.peakBytesUsed > 1_000_000);
  // The heap grew the memory, from where the module's data and stack end.
  assert.equal(run.pool.byteOffset, Math.ceil(run.heapBase / 8) * 8);
  assert.equal(run.pool.byteOffset + run.pool.byteLength, run.memory.buffer.byteLength);
  assert.ok(run.memory.buffer.byteLength > 1_000_000);
  const map = heapMap(run.pool, { width: 16 });
  assert.match(map, /^≡█?░+$/u);
  run.pool.check();
});

Deno.test("in debug mode the C program's leak is reported, with its C frames", async () => {
  const run = await runProgram({ debug: true });
  assert.equal(run.status, 0);
  const leaks = run.pool.leaks();
  assert.equal(leaks.length, 1);
  assert.equal(leaks[0]!.size, 1234);
  assert.match(leaks[0]!.stack, /^at malloc \(wasm:/);
  assert.match(leaks[0]!.stack, /at _start \(wasm:/);
  run.pool.check();
});

Deno.test("the host program shows the C program's heap and its leak", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      new URL("../examples/c_malloc/host.ts", import.meta.url).href,
      "--debug",
    ],
    stdout: "piped",
  }).output();
  assert.equal(code, 0);
  const out = new TextDecoder().decode(stdout);
  assert.match(out, /^c_malloc: 12 checks, 0 failed/);
  assert.match(out, /exit status 0\n/);
  assert.match(out, /heap from \d+ in a \d+-byte memory: \d+ bytes, \d+ used/);
  assert.match(out, /leaked 1234 bytes at \d+, allocated\n {2}at malloc/);
});

Deno.test("the C program links no allocator of its own: malloc and friends are imports", async () => {
  const module = await WebAssembly.compile(await Deno.readFile(WASM));
  const imports = WebAssembly.Module.imports(module)
    .filter((entry) => entry.module === "mm_alloc")
    .map((entry) => entry.name);
  assert.deepEqual(imports.sort(), ["aligned_alloc", "calloc", "free", "malloc", "realloc"]);
  const names = new TextDecoder().decode(WebAssembly.Module.customSections(module, "name")[0]!);
  assert.match(names, /table_put/);
  for (const own of ["dlmalloc", "sbrk", "internal_memalign", "dispose_chunk"]) {
    assert.ok(!names.includes(own), `${own} is linked in`);
  }
});

Deno.test({
  name: "program.wasm is what the C sources build to (where clang for wasm32-wasi is installed)",
  ignore: !(await haveToolchain()),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await buildProgram(`${dir}/program.wasm`);
      assert.deepEqual(await Deno.readFile(`${dir}/program.wasm`), await Deno.readFile(WASM));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
