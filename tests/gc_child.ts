// Run by gc_test.ts as
//   deno run --v8-flags=--trace-gc,--expose-gc tests/gc_child.ts
// V8 prints a line for every garbage collection. This script brackets one
// million raw alloc/free pairs with two forced collections, so the parent can
// count the collections between them. Its own lines go to stderr: V8 writes
// the trace to stdout through a buffer of its own, and a line printed there
// could land inside a trace line.

import { Pool } from "../mod.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("gc_child.ts needs --v8-flags=--expose-gc");

/**
 * Warm-up long enough for V8 to finish optimizing every hot function: a job
 * its compiler thread completes during the measured run is installed from the
 * main thread, and that allocates on the heap. On a busy two-core machine the
 * jobs queued by a short warm-up could still be running.
 */
const WARM_UP_ROUNDS = 100;
const WARM_UP_PAIRS = 10_000;
/** Pauses after the warm-up that leave the compiler thread time to finish. */
const SETTLE_PAUSES = 3;
const SETTLE_MS = 20;
const MEASURED_PAIRS = 1_000_000;
/**
 * Blocks kept live at once, so frees merge and split among neighbours and not
 * only with the top block; a prime, so every slot sees every size over time.
 */
const RING = 61;
// Sizes cycle through small, odd and larger ones across several size classes;
// alignments through the default (0 here: the call without one) and explicit
// ones. Typed arrays, because a plain array that mixes numbers with
// `undefined` can box every number read from it.
const SIZES = Uint16Array.of(0, 8, 13, 24, 40, 64, 100, 200, 256, 333, 512, 1000, 2000, 4096);
const ALIGNS = Uint16Array.of(0, 0, 8, 16, 0, 0, 64, 0);

const pool = Pool.create(1 << 20);
const ring = new Uint32Array(RING);

/** Replaces `pairs` times the oldest block of the ring with a new one; returns failed allocations. */
function churn(pairs: number): number {
  let failed = 0;
  for (let i = 0; i < pairs; i++) {
    const slot = i % RING;
    if (ring[slot] !== 0) pool.free(ring[slot]!);
    const size = SIZES[i % SIZES.length]!;
    const align = ALIGNS[i % ALIGNS.length]!;
    const offset = align === 0 ? pool.alloc(size) : pool.alloc(size, align);
    if (offset === 0) failed++;
    ring[slot] = offset;
  }
  return failed;
}

let failed = 0;
for (let round = 0; round < WARM_UP_ROUNDS; round++) failed += churn(WARM_UP_PAIRS);
// A finished job is installed at the function's next call, so churn again after each pause.
for (let pause = 0; pause < SETTLE_PAUSES; pause++) {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  failed += churn(WARM_UP_PAIRS);
}

gc();
console.error("gc_child: measuring");
failed += churn(MEASURED_PAIRS);
gc();
console.error("gc_child: done");

// Checked only after the measurement, so nothing here can disturb it.
for (const offset of ring) if (offset !== 0) pool.free(offset);
pool.check();
if (failed !== 0 || pool.bytesUsed() !== 0) {
  throw new Error(`gc_child: ${failed} allocations failed; ${pool.bytesUsed()} bytes still used`);
}
