// What `Block.view` costs against making a typed array each time: a render
// loop that asks for the same views of a block every frame. The cached view
// is a few comparisons and makes no garbage; `new Float32Array(...)` makes an
// object per call, which the GC collects later (and charges to whatever runs
// then, so these come last in the group).

import { ourPool, sink } from "./_peers.ts";
import { FIXED_SIZE } from "./_workload.ts";

const GROUP = `a ${FIXED_SIZE} B block as float32s`;
const pool = ourPool(1);
const block = pool.allocate(FIXED_SIZE)!;
const floats = FIXED_SIZE / Float32Array.BYTES_PER_ELEMENT;

Deno.bench("block.view(Float32Array), cached", { group: GROUP, baseline: true }, () => {
  block.view(Float32Array)[0] = 1;
});

Deno.bench("block.view(), alternating Float32Array and Int32Array", { group: GROUP }, () => {
  block.view(Float32Array)[0] = 1;
  block.view(Int32Array)[1] = 1;
});

Deno.bench("block.f64 (kept by the handle)", { group: GROUP }, () => {
  block.f64[0] = 1;
});

Deno.bench("new Float32Array(pool.buffer, offset, n)", { group: GROUP }, () => {
  const view = new Float32Array(pool.buffer, block.offset, floats);
  view[0] = 1;
  sink.last = view;
});
