import assert from "node:assert/strict";

Deno.test("the build switch that bench/checks_bench.ts flips turns the integrity checks off, and only there", async () => {
  const child = new URL("./checks_switch_child.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", child.href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.deepEqual(new TextDecoder().decode(stdout).trim().split("\n"), [
    "checks on: invalid-offset",
    "checks off: accepted",
  ]);
});
