// Workload (a): allocate FIXED_SIZE bytes and free them at once, on an otherwise empty heap.

import { ourPool, sink, thingPool, wasmTlsf } from "./_peers.ts";
import { FIXED_SIZE } from "./_workload.ts";

// An empty heap needs little room; one block is live at a time.
const LIVE = 1;
const F64_LENGTH = FIXED_SIZE / Float64Array.BYTES_PER_ELEMENT;

const GROUP = `alloc+free ${FIXED_SIZE} B`;
const GC_GROUP = `${GROUP} vs GC`;

const raw = ourPool(LIVE);
const handle = ourPool(LIVE);
const handleF64 = ourPool(LIVE);
const thing = thingPool(LIVE);
const wasm = await wasmTlsf();

Deno.bench("ours raw: alloc/free", { group: GROUP, baseline: true }, () => {
  raw.free(raw.alloc(FIXED_SIZE));
});

Deno.bench("@thi.ng/malloc: malloc/free", { group: GROUP }, () => {
  thing.free(thing.malloc(FIXED_SIZE));
});

Deno.bench("wasm TLSF: alloc/free", { group: GROUP }, () => {
  wasm.free(wasm.alloc(FIXED_SIZE));
});

Deno.bench("ours handle: allocate/free()", { group: GROUP }, () => {
  const block = handle.allocate(FIXED_SIZE)!;
  block.free();
  sink.last = block;
});

// The GC peers come last: the typed arrays they drop leave the GC work that
// slows whatever allocates next (it nearly doubled "ours handle + f64 write").
Deno.bench("ours handle + f64 write", { group: GC_GROUP, baseline: true }, () => {
  const block = handleF64.allocate(FIXED_SIZE)!;
  block.f64[0] = 1;
  block.free();
  sink.last = block;
});

Deno.bench(`new Float64Array(${F64_LENGTH}) + write`, { group: GC_GROUP }, () => {
  const array = new Float64Array(F64_LENGTH);
  array[0] = 1;
  // Kept until the next call, then garbage: the GC's free.
  sink.last = array;
});

Deno.bench(`new Uint8Array(${FIXED_SIZE})`, { group: GC_GROUP }, () => {
  sink.last = new Uint8Array(FIXED_SIZE);
});
