// Growth: (1) what it costs when no growth happens, against the code before
// growth existed (src/ at d1090e0), in the same run; (2) one growth step,
// per byte added; (3) allocating from an empty resizable pool against one
// made at full size.

import { libraryAtCommit, libraryCopy } from "../tools/library_copy.ts";
import { Pool } from "../mod.ts";
import { poolBytesFor, sink } from "./_peers.ts";
import { churnSequence, FIXED_SIZE, preChurnSteps, STEP_MASK } from "./_workload.ts";

/** The commit before growth: the code whose speed growth must keep. */
const BEFORE = "d1090e0";

const before = await libraryAtCommit(BEFORE);
const now = await libraryCopy(true);

if (before === null) {
  console.error(
    `growth_bench: no git history with ${BEFORE}; the same-run comparison is left out.`,
  );
} else {
  for (const live of [1000, 100_000]) {
    const { initialSizes, slots, sizes } = churnSequence(live);
    const args = [
      poolBytesFor(live),
      initialSizes,
      slots,
      sizes,
      preChurnSteps(live),
      STEP_MASK,
    ] as const;
    const group = `no growth: churn L=${live}`;
    Deno.bench(
      `before growth (${BEFORE}), L=${live}`,
      { group, baseline: true },
      before.churn(...args),
    );
    Deno.bench(`with growth, L=${live}`, { group }, now.churn(...args));
    const rab = `no growth: churn over a resizable buffer, L=${live}`;
    Deno.bench(
      `before growth (${BEFORE}), resizable, L=${live}`,
      { group: rab, baseline: true },
      before.churn(...args, true),
    );
    Deno.bench(`with growth, resizable, L=${live}`, { group: rab }, now.churn(...args, true));
  }

  const group = `no growth: alloc+free ${FIXED_SIZE} B`;
  const old = new before.Pool(new ArrayBuffer(64 * 1024));
  const ours = new now.Pool(new ArrayBuffer(64 * 1024));
  Deno.bench(`before growth (${BEFORE}): alloc/free`, { group, baseline: true }, () => {
    old.free(old.alloc(FIXED_SIZE));
  });
  Deno.bench("with growth: alloc/free", { group }, () => {
    ours.free(ours.alloc(FIXED_SIZE));
  });
  const oldHandle = new before.Pool(new ArrayBuffer(64 * 1024));
  const ourHandle = new now.Pool(new ArrayBuffer(64 * 1024));
  Deno.bench(`before growth (${BEFORE}): allocate/free()`, { group, baseline: false }, () => {
    const block = oldHandle.allocate(FIXED_SIZE)!;
    block.free();
    sink.last = block;
  });
  Deno.bench("with growth: allocate/free()", { group }, () => {
    const block = ourHandle.allocate(FIXED_SIZE)!;
    block.free();
    sink.last = block;
  });
}

// One growth step: a full pool of `bytes` doubles to hold one more block.
const MIB = 1 << 20;
for (const bytes of [64 * 1024, MIB, 16 * MIB]) {
  Deno.bench(`one growth step from ${bytes} bytes (the bytes added: as many)`, {
    group: "one growth step",
    baseline: bytes === MIB,
  }, (b) => {
    const pool = new Pool(new ArrayBuffer(bytes, { maxByteLength: 4 * bytes }));
    pool.alloc(pool.largestFreeBlock());
    b.start();
    pool.alloc(64);
    b.end();
  });
}

// Allocating a workload's blocks: from a resizable pool that starts empty and
// grows to hold them, against pools made at the size it ends at.
const BLOCKS = 20_000;
const workload = churnSequence(BLOCKS).initialSizes;
const fill = (pool: Pool): Pool => {
  for (let i = 0; i < workload.length; i++) pool.alloc(workload[i]!);
  return pool;
};
const grownTo = fill(new Pool(new ArrayBuffer(0, { maxByteLength: 64 * MIB }))).byteLength;
const fillGroup = `${BLOCKS} allocations into a new pool`;
Deno.bench("resizable, starting empty, growing", { group: fillGroup, baseline: true }, () => {
  sink.last = fill(new Pool(new ArrayBuffer(0, { maxByteLength: 64 * MIB })));
});
Deno.bench(`resizable, made at full size (${grownTo} bytes)`, { group: fillGroup }, () => {
  sink.last = fill(new Pool(new ArrayBuffer(grownTo, { maxByteLength: 64 * MIB })));
});
Deno.bench(`fixed ArrayBuffer of the same size`, { group: fillGroup }, () => {
  sink.last = fill(new Pool(new ArrayBuffer(grownTo)));
});
