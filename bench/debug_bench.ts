// Debug mode's guards, poison and allocation stacks, against the same raw churn.
// In a file of its own: a debug pool's own-property methods give Pool objects
// a second shape, which would slow the other benchmarks' pools in this module.

import { oursRawChurn } from "./_peers.ts";
import { churnSequence } from "./_workload.ts";

// Debug mode's guards, poison and allocation stacks, against the same raw churn.
const DEBUG_LIVE = 10_000;
const debugSeq = churnSequence(DEBUG_LIVE);
Deno.bench(
  `ours raw, debug mode off, L=${DEBUG_LIVE}`,
  { group: "debug mode", baseline: true },
  oursRawChurn(debugSeq).step,
);
Deno.bench(`ours raw, debug mode on, L=${DEBUG_LIVE}`, {
  group: "debug mode",
  n: 20_000,
  warmup: 100,
}, oursRawChurn(debugSeq, true).step);
