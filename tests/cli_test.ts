import assert from "node:assert/strict";

/** The tools with a command line, and the permissions each runs with in deno.json's tasks. */
const TOOLS = [
  { name: "fuzz", permissions: ["--allow-read"] },
  { name: "soak", permissions: [] },
  { name: "replay", permissions: ["--allow-read", "--allow-env=NODE_ENV"] },
] as const;

async function run(tool: (typeof TOOLS)[number], ...args: string[]) {
  const script = new URL(`../tools/${tool.name}.ts`, import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...tool.permissions, script.href, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

for (const tool of TOOLS) {
  Deno.test(`${tool.name}: a bad flag gets a one-line usage hint and exit code 2`, async () => {
    const cases = [["--no-such-flag"], ["-x"], [tool.name === "soak" ? "--ops" : "--json=3"]];
    if (tool.name === "fuzz") {
      cases.push(["--seconds", "soon"], ["--seed=-1"], ["--seed", "4294967296"]);
    }
    if (tool.name === "soak") cases.push(["--ops", "1.5"]);
    if (tool.name === "replay") cases.push([], ["--tolerance", "x", "a.trace"]);
    const results = await Promise.all(cases.map((args) => run(tool, ...args)));
    results.forEach(({ code, stdout, stderr }, i) => {
      const what = `${tool.name} ${cases[i]!.join(" ")}`;
      assert.equal(code, 2, `${what}: exit code; stderr: ${stderr}`);
      assert.equal(stdout, "", what);
      // The problem (parseArgs words some in several lines), then the hint; no stack.
      const lines = stderr.trimEnd().split("\n");
      assert.match(
        lines.at(-1)!,
        new RegExp(`^Usage: deno task ${tool.name} -- .*; -h for `),
        what,
      );
      assert.equal(lines.filter((line) => line.startsWith("Usage:")).length, 1, what);
      assert.doesNotMatch(stderr, /\bat .*\.ts:\d+|Error:/, `${what}: no stack`);
    });
  });

  Deno.test(`${tool.name}: -h and --help print the usage and exit 0`, async () => {
    const [short, long] = await Promise.all([run(tool, "-h"), run(tool, "--", "--help")]);
    for (const { code, stdout, stderr } of [short, long]) {
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`^Usage: deno task ${tool.name} -- `));
      assert.match(stdout, /-h, --help/);
    }
    assert.equal(short.stdout, long.stdout);
  });
}
