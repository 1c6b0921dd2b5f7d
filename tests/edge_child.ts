// Run by edge_test.ts as
//   deno run --allow-net=127.0.0.1 tests/edge_child.ts
// Serves examples/edge.ts on a free port of 127.0.0.1, sends it requests from
// a few clients at once, checks every reply, shuts the server down, and
// prints what it saw as one line of JSON.

import assert from "node:assert/strict";
import { handler, MAX_BODY_BYTES, pool } from "../examples/edge.ts";

const REQUESTS = 300;
const CLIENTS = 12;

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
const url = `http://127.0.0.1:${server.addr.port}/`;
let ok = 0;

/** Request `i`: a deterministic mix of lengths, the first few empty. */
async function send(i: number): Promise<void> {
  const values = Float64Array.from({ length: (i * 37) % 700 }, (_, k) => (k % 13) - i / 7);
  const response = await fetch(url, { method: "POST", body: new Uint8Array(values.buffer) });
  assert.equal(response.status, 200);
  const sums = new Float64Array(await response.arrayBuffer());
  assert.equal(sums.length, values.length);
  let sum = 0;
  for (let k = 0; k < values.length; k++) assert.equal(sums[k], sum += values[k]!);
  ok++;
}

let next = 0;
await Promise.all(Array.from({ length: CLIENTS }, async () => {
  while (next < REQUESTS) await send(next++);
}));

const refused = [];
for (
  const init of [
    { method: "GET" },
    { method: "POST", body: new Uint8Array(12) },
    { method: "POST", body: new Uint8Array(MAX_BODY_BYTES + 8) },
  ]
) {
  const response = await fetch(url, init);
  await response.body?.cancel();
  refused.push(response.status);
}

const stats = pool.stats();
pool.check();
await server.shutdown();
await server.finished;
console.log(JSON.stringify({
  ok,
  refused,
  bytesUsed: stats.bytesUsed,
  liveBlocks: stats.liveBlocks,
  allocations: stats.allocations,
  frees: stats.frees,
}));
