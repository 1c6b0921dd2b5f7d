// Workload (c): the stats calls on a pool holding a churned live set.

import { oursRawChurn, sink, thingChurn } from "./_peers.ts";
import { churnSequence } from "./_workload.ts";

const LIVE = 10_000;
const seq = churnSequence(LIVE);
const ours = oursRawChurn(seq);
const oursChurning = oursRawChurn(seq);
const thing = thingChurn(seq);

// Between churn steps: a step may take the largest free block, and the next
// largestFreeBlock() then looks for the new one.
const churnGroup = `stats between churn steps, L=${LIVE}`;
const churning = oursChurning.heap;
const step = oursChurning.step;

Deno.bench("churn step", { group: churnGroup, baseline: true }, step);

Deno.bench("churn step + largestFreeBlock()", { group: churnGroup }, () => {
  step();
  sink.sum += churning.largestFreeBlock();
});

Deno.bench("churn step + stats()", { group: churnGroup }, () => {
  step();
  sink.last = churning.stats();
});

// A pool that stands still: each answer is whatever the pool keeps at hand.
const group = `stats, L=${LIVE}`;
const pool = ours.heap;

Deno.bench("ours stats()", { group, baseline: true }, () => {
  sink.last = pool.stats();
});

Deno.bench("ours bytesUsed()", { group }, () => {
  sink.sum += pool.bytesUsed();
});

Deno.bench("ours bytesFree()", { group }, () => {
  sink.sum += pool.bytesFree();
});

Deno.bench("ours largestFreeBlock()", { group }, () => {
  sink.sum += pool.largestFreeBlock();
});

// thi.ng counts by walking its free and used lists.
Deno.bench("@thi.ng/malloc stats()", { group }, () => {
  sink.last = thing.heap.stats();
});
