// Debug mode in a bundle: esbuild bundles a program with the library as
// ESM, as CommonJS and minified, and each bundle's leak report under Node.js
// must start at the program's own frame.

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
/** The esbuild that deno.json pins, run as a command. */
const ESBUILD: string = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).imports
  .esbuild;

/** A program that leaks one block from a function of its own and prints the report. */
const PROGRAM = `import { Pool } from ${JSON.stringify(new URL("mod.ts", ROOT).href.slice(7))};

function leakOne(pool: Pool) {
  return pool.allocateOrThrow(48);
}

const pool = Pool.create(4096, { debug: true });
leakOne(pool);
{
  using _freed = pool.allocateOrThrow(8);
}
console.log(JSON.stringify(pool.leaks()));
`;

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, { args, cwd }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, `${command} ${args.join(" ")} failed:\n${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

Deno.test("debug mode's leak report shows the program's frame in ESM, CommonJS and minified bundles", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mm-alloc-bundle-" });
  try {
    await Deno.writeTextFile(`${dir}/app.ts`, PROGRAM);
    const bundles: [string, string[]][] = [
      ["app.mjs", ["--format=esm"]],
      ["app.cjs", ["--format=cjs"]],
      ["app.min.mjs", ["--format=esm", "--minify"]],
    ];
    for (const [file, flags] of bundles) {
      await run(Deno.execPath(), [
        "run",
        "--allow-all",
        ESBUILD,
        "app.ts",
        "--bundle",
        "--platform=node",
        "--target=node20",
        `--outfile=${file}`,
        "--log-level=warning",
        ...flags,
      ], dir);
      const leaks = JSON.parse(await run("node", [file], dir)) as { size: number; stack: string }[];
      assert.equal(leaks.length, 1, file);
      assert.equal(leaks[0]!.size, 48, file);
      const top = leaks[0]!.stack.split("\n")[0]!;
      // The program's frame, in the bundle's file: not the allocator's methods.
      assert.match(top, new RegExp(`^at .*${file.replace(".", "\\.")}:\\d+:\\d+\\)?$`), file);
      assert.doesNotMatch(top, /allocate|Pool\./, file);
      if (!file.includes(".min.")) assert.match(top, /^at leakOne \(/, file);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
