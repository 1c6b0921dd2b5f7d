// What the always-on integrity checks cost: raw churn through the library as
// it ships, and through a copy of it built without the checks (Build.Checks
// = 0 in src/engine/tlsf.ts), in the same run. Both are copies of src/, so neither
// shares the other's compiled code.

import { libraryCopy } from "../tools/library_copy.ts";
import { poolBytesFor } from "./_peers.ts";
import { churnSequence, LIVE_COUNTS, preChurnSteps, STEP_MASK } from "./_workload.ts";

const on = await libraryCopy(true);
const off = await libraryCopy(false);

for (const live of LIVE_COUNTS) {
  const { initialSizes, slots, sizes } = churnSequence(live);
  const args = [
    poolBytesFor(live),
    initialSizes,
    slots,
    sizes,
    preChurnSteps(live),
    STEP_MASK,
  ] as const;
  const group = `integrity checks, L=${live}`;
  Deno.bench(`checks on (as shipped), L=${live}`, { group, baseline: true }, on.churn(...args));
  Deno.bench(`checks off (a copy without them), L=${live}`, { group }, off.churn(...args));
}
