// The no-growth speed of the code with growth against the code before it
// (src/ at d1090e0), measured interleaved in one process so that a busy
// machine slows both alike: each round times the same churn steps through
// each copy in turn (the order alternating), and the figure is the median
// of the rounds' ratios, with their range.
//
//   deno run --allow-read --allow-write --allow-run --allow-env bench/growth_ab.ts [rounds]

import { libraryAtCommit, libraryCopy } from "../tools/library_copy.ts";
import { poolBytesFor } from "./_peers.ts";
import { churnSequence, preChurnSteps, STEP_MASK } from "./_workload.ts";

const BEFORE = "d1090e0";
const rounds = Number(Deno.args[0] ?? 21);
const before = await libraryAtCommit(BEFORE);
if (before === null) throw new Error(`No git history with ${BEFORE} here.`);
const now = await libraryCopy(true);

function time(step: () => void, steps: number): number {
  const start = performance.now();
  for (let i = 0; i < steps; i++) step();
  return performance.now() - start;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[values.length >> 1]!;

/** Each round's time through `ours` over the time through `old`, the order alternating. */
function ratios(old: () => void, ours: () => void, steps: number): number[] {
  time(old, steps);
  time(ours, steps);
  const found: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0;
    const a = first ? time(old, steps) : 0;
    const b = time(ours, steps);
    const c = first ? 0 : time(old, steps);
    found.push(b / (a + c));
  }
  return found;
}

function report(what: string, found: number[]): void {
  console.log(
    `${what}: with growth / before = ${median(found).toFixed(3)} (range ${
      Math.min(...found).toFixed(3)
    }-${Math.max(...found).toFixed(3)}, ${rounds} rounds)`,
  );
}

{
  const old = new before.Pool(new ArrayBuffer(64 * 1024));
  const ours = new now.Pool(new ArrayBuffer(64 * 1024));
  const oldStep = () => old.free(old.alloc(64));
  const ourStep = () => ours.free(ours.alloc(64));
  report("alloc+free 64 B", ratios(oldStep, ourStep, 1_000_000));
}

{
  const old = new before.Pool(new ArrayBuffer(64 * 1024));
  const ours = new now.Pool(new ArrayBuffer(64 * 1024));
  const oldStep = () => {
    const block = old.allocate(64)!;
    block.f64[0] = 1;
    block.free();
  };
  const ourStep = () => {
    const block = ours.allocate(64)!;
    block.f64[0] = 1;
    block.free();
  };
  report("allocate + f64 write + free(), 64 B", ratios(oldStep, ourStep, 500_000));
}

for (const resizable of [false, true]) {
  for (const live of [1000, 100_000]) {
    const { initialSizes, slots, sizes } = churnSequence(live);
    const args = [
      poolBytesFor(live),
      initialSizes,
      slots,
      sizes,
      preChurnSteps(live),
      STEP_MASK,
      resizable,
    ] as const;
    const found = ratios(before.churn(...args), now.churn(...args), 200_000);
    report(`churn L=${live}${resizable ? ", resizable buffer" : ""}`, found);
  }
}
