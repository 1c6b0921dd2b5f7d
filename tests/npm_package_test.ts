// The npm package as a Node.js user gets it: built by tools/build_npm.ts,
// packed with `npm pack`, installed from the tarball into a new project, and
// run under the machine's `node`: a program that touches both entry points,
// the types checked by TypeScript's compiler, and the library's examples.

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
  imports: Record<string, string>;
};
const decoder = new TextDecoder();

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, { args, cwd }).output();
  assert.equal(
    code,
    0,
    `${command} ${args.join(" ")} failed:\n${decoder.decode(stdout)}${decoder.decode(stderr)}`,
  );
  return decoder.decode(stdout);
}

/** What a Node.js user writes: both entry points, inspect, JSON, dispose, debug mode. */
const PROGRAM = `import { Pool, PoolError, heapMap } from "@mm/alloc";
import { minimumPoolSize, parseTrace, recordTrace, replayTrace } from "@mm/alloc/trace";
import { inspect } from "node:util";

const out = { node: process.version };
const pool = Pool.create(1 << 16);
const recorder = recordTrace(pool, { description: "node" });
const block = pool.allocateOrThrow(64);
block.f64.fill(2.5);
out.inspectBlock = inspect(block);
out.inspectPool = inspect({ pool });
out.json = JSON.parse(JSON.stringify({ block, pool }));
out.sameView = block.view(Float32Array) === block.view(Float32Array);
const raw = pool.alloc(100);
pool.free(raw);
block[Symbol.dispose]();
block[Symbol.dispose]();
out.stats = pool.stats();
try {
  pool.allocateOrThrow(1 << 20);
} catch (e) {
  out.error = [e instanceof PoolError, e.code, e.message];
}
await recorder.stop();
const trace = await parseTrace(recorder.toString());
out.replayed = replayTrace(trace, Pool.create(4096)).failedAt;
out.minimum = minimumPoolSize(trace, { tolerance: 0 }).poolSize;
out.map = heapMap(pool, { width: 16 });

function leakOne(debugPool) {
  return debugPool.allocateOrThrow(48);
}
const debugPool = Pool.create(4096, { debug: true });
leakOne(debugPool);
out.leak = debugPool.leaks()[0].stack.split("\\n")[0];
console.log(JSON.stringify(out));
`;

/** The same calls in TypeScript, for the compiler to check against the package's declarations. */
const TYPED = `import { type Block, Pool, type PoolStats } from "@mm/alloc";
import { type Trace, parseTrace } from "@mm/alloc/trace";

const pool: Pool = Pool.create(4096, { debug: false });
const block: Block = pool.allocateOrThrow(8, { align: 16 });
const stats: PoolStats = pool.stats();
const trace: Promise<Trace> = parseTrace("a 0 8\\n");
// @ts-expect-error: an option the pool does not have.
Pool.create(4096, { debg: true });
export { block, stats, trace };
`;

Deno.test("the npm package installs from its tarball and runs under Node.js", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mm-alloc-npm-" });
  try {
    await run(Deno.execPath(), [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      new URL("tools/build_npm.ts", ROOT).href,
      "--out",
      `${dir}/package`,
    ], dir);
    const packed = await run(
      "npm",
      ["pack", "--pack-destination", dir, "--silent"],
      `${dir}/package`,
    );
    const tarball = `${dir}/${packed.trim().split("\n").at(-1)}`;

    const project = `${dir}/project`;
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      `${project}/package.json`,
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await run("npm", ["install", tarball, "--offline", "--no-audit", "--no-fund"], project);
    const installed = JSON.parse(
      await Deno.readTextFile(`${project}/node_modules/@mm/alloc/package.json`),
    );
    assert.deepEqual(Object.keys(installed.exports), [".", "./trace"]);
    assert.ok(await Deno.stat(`${project}/node_modules/@mm/alloc/README.md`));
    assert.ok(await Deno.stat(`${project}/node_modules/@mm/alloc/LICENSE`));

    await Deno.writeTextFile(`${project}/main.mjs`, PROGRAM);
    const out = JSON.parse(await run("node", ["main.mjs"], project));
    console.log(`Node.js ${out.node}`);
    assert.match(out.node, /^v\d+\./);
    assert.match(out.inspectBlock, /^Block \{ offset: \d+, length: 64, live: true \}$/);
    assert.match(
      out.inspectPool,
      /^\{\s+pool: Pool \{ byteLength: 65536, bytesUsed: 72, bytesFree: \d+, largestFreeBlock: \d+ \}\s+\}$/,
    );
    assert.equal(out.json.block.length, 64);
    assert.equal(out.json.pool.bytesUsed, 72);
    assert.equal(out.sameView, true);
    assert.equal(out.stats.bytesUsed, 0);
    assert.equal(out.stats.allocations, 2);
    assert.deepEqual(out.error.slice(0, 2), [true, "out-of-memory"]);
    assert.match(out.error[2], /^Cannot allocate 1048576 bytes: the pool has \d+ bytes free/);
    assert.equal(out.replayed, -1);
    assert.ok(out.minimum > 0);
    assert.equal(out.map.length, 16);
    assert.match(out.leak, /^at leakOne \(.*main\.mjs:\d+:\d+\)$/);

    await Deno.writeTextFile(`${project}/typed.ts`, TYPED);
    await run(Deno.execPath(), [
      "run",
      "--allow-read",
      "--allow-env",
      `${config.imports.typescript}/tsc`,
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--target",
      "es2022",
      "--lib",
      "es2023,esnext.disposable,dom",
      "typed.ts",
    ], project);

    // The library's examples, their imports pointed at the package.
    const esbuild = config.imports.esbuild!;
    const expected: Record<string, RegExp> = {
      "demo.ts": /largest free block \d+ B/,
      "size_a_pool.ts": /replayed in \d+ bytes: fits\n/,
      "wasm_memory.ts": /sum of 1\.\.1000 in WebAssembly, read from block \d+: 500500\n/,
    };
    for (const [example, output] of Object.entries(expected)) {
      const source = (await Deno.readTextFile(new URL(`examples/${example}`, ROOT)))
        .replaceAll(`"../mod.ts"`, `"@mm/alloc"`)
        .replaceAll(`"../trace.ts"`, `"@mm/alloc/trace"`);
      const file = example.replace(/\.ts$/, "");
      await Deno.writeTextFile(`${project}/${example}`, source);
      await run(Deno.execPath(), [
        "run",
        "--allow-all",
        esbuild,
        example,
        `--outfile=${file}.mjs`,
        "--format=esm",
        "--target=node20",
        "--log-level=warning",
      ], project);
      const printed = await run("node", [`${file}.mjs`], project);
      assert.match(printed, output, example);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
