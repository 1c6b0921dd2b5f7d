import assert from "node:assert/strict";

Deno.test("the edge example answers hundreds of requests on 127.0.0.1 and ends with an empty pool", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", new URL("./edge_child.ts", import.meta.url).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, `the child failed:\n${new TextDecoder().decode(stderr)}`);
  const seen = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(seen.ok, 300);
  assert.deepEqual(seen.refused, [405, 400, 400]);
  assert.equal(seen.bytesUsed, 0);
  assert.equal(seen.liveBlocks, 0);
  // Two blocks per request: the body and the sums.
  assert.equal(seen.allocations, 600);
  assert.equal(seen.frees, 600);
});
