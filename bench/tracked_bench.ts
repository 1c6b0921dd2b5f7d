// The hot paths `deno task bench:track` follows over time (tools/bench_track.ts):
// our own calls only, no peers, so that one run takes seconds.

import { ourPool, oursHandleChurn, oursRawChurn, sink } from "./_peers.ts";
import { churnSequence, FIXED_SIZE, LIVE_COUNTS } from "./_workload.ts";

const GROUP = "tracked";

const raw = ourPool(1);
Deno.bench(`raw alloc+free ${FIXED_SIZE} B`, { group: GROUP, baseline: true }, () => {
  raw.free(raw.alloc(FIXED_SIZE));
});

const handles = ourPool(1);
Deno.bench(`handle allocate+free ${FIXED_SIZE} B`, { group: GROUP }, () => {
  const block = handles.allocate(FIXED_SIZE)!;
  block.free();
  sink.last = block;
});

const viewed = ourPool(1).allocate(FIXED_SIZE)!;
Deno.bench("view(Float32Array), cached", { group: GROUP }, () => {
  viewed.view(Float32Array)[0] = 1;
});

for (const live of LIVE_COUNTS) {
  Deno.bench(`raw churn L=${live}`, { group: GROUP }, oursRawChurn(churnSequence(live)).step);
}
Deno.bench(
  `handle churn L=${LIVE_COUNTS[1]}`,
  { group: GROUP },
  oursHandleChurn(churnSequence(LIVE_COUNTS[1]), false).step,
);
