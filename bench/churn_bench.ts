// Workload (b): churn. A live set of L blocks; one iteration is one step of
// the shared seeded sequence (free a random live block, allocate a random
// size in its place). Live sets are built and churned before timing.

import {
  bytesChurn,
  floatsChurn,
  oursHandleChurn,
  oursRawChurn,
  plainChurn,
  thingChurn,
  wasmChurn,
} from "./_peers.ts";
import { churnSequence, LIVE_COUNTS } from "./_workload.ts";

// thi.ng's free and malloc walk lists as long as the live set: at the largest
// L a step takes about a millisecond, so it gets a bounded number of them.
const THING_BOUNDED_FROM = 100_000;
const THING_BOUNDED = { n: 200, warmup: 1 };

for (const live of LIVE_COUNTS) {
  Deno.bench(`ours raw, scaling, L=${live}`, {
    group: "scaling: ours raw",
    baseline: live === LIVE_COUNTS[0],
  }, oursRawChurn(churnSequence(live)).step);
}

for (const live of LIVE_COUNTS) {
  const seq = churnSequence(live);
  const group = `churn L=${live}`;
  const thingOptions = live >= THING_BOUNDED_FROM ? THING_BOUNDED : {};
  Deno.bench(`ours raw, L=${live}`, { group, baseline: true }, oursRawChurn(seq).step);
  Deno.bench(`wasm TLSF, L=${live}`, { group }, (await wasmChurn(seq)).step);
  Deno.bench(`plain TS TLSF (no checks or stats), L=${live}`, { group }, plainChurn(seq).step);
  Deno.bench(`@thi.ng/malloc, L=${live}`, { group, ...thingOptions }, thingChurn(seq).step);
  Deno.bench(`ours handle, L=${live}`, { group }, oursHandleChurn(seq, false).step);
}

// The GC peers come last: the typed arrays they drop leave GC work that is
// charged to whatever allocates after them.
for (const live of LIVE_COUNTS) {
  const seq = churnSequence(live);
  const group = `churn L=${live} vs GC`;
  Deno.bench(
    `ours handle + f64 write, L=${live}`,
    { group, baseline: true },
    oursHandleChurn(seq, true).step,
  );
  Deno.bench(`new Float64Array(n/8) + write, L=${live}`, { group }, floatsChurn(seq).step);
  Deno.bench(`new Uint8Array(n), L=${live}`, { group }, bytesChurn(seq).step);
}
