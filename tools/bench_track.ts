// `deno task bench:track`: runs bench/tracked_bench.ts (our hot paths, no
// peers) several times with `deno bench --json`, appends the results with
// the commit and the date to bench/history.jsonl, and prints what moved more
// than the noise since the last entry.
//
// Each run gives every bench its mean time per call; an entry keeps, per
// bench, every run's figure and their median. The noise is measured, not
// assumed: the spread of the repeated runs, as the median absolute deviation
// (scaled by 1.4826, a standard deviation for normal noise, but robust to
// the odd run that the machine's other work slows down). A bench moved when
// its median changed by more than twice the larger noise of this entry and
// the last one. The machine's load also changes from one entry to the next
// and moves every figure together, so each bench is judged by its time
// relative to the suite's baseline (raw alloc+free) in the same run; the
// baseline itself can only be judged in nanoseconds, load and all.

import { parseArgs } from "node:util";
import { cliArgs } from "./_cli_args.ts";
import { type BenchJson, benchJson, meanOf, median, ROOT } from "./_bench_json.ts";

const SUITE = "bench/tracked_bench.ts";
const HISTORY = new URL("bench/history.jsonl", ROOT);
const DEFAULT_RUNS = 5;
/** Scales a median absolute deviation to a standard deviation, for normal noise. */
const MAD_SCALE = 1.4826;
/** How many noises a median must move by to count. */
const NOISES = 2;

const USAGE = `Usage: deno task bench:track [--runs N] [--dry-run]

Runs ${SUITE} N times (default ${DEFAULT_RUNS}, at least 3), appends the results to
bench/history.jsonl (not with --dry-run) and prints what moved beyond the noise.`;

/** Figures of one bench over the runs of one entry: every run's, their median and noise. */
interface Spread {
  median: number;
  /** The runs' median absolute deviation, scaled by MAD_SCALE. */
  noise: number;
  runs: number[];
}

/** One bench in one entry: nanoseconds per call, and that time over the baseline's. */
interface Figure extends Spread {
  /** Whether this is the suite's baseline. */
  baseline: boolean;
  relative: Spread;
}

/** One line of the history. */
interface Entry {
  date: string;
  commit: string;
  /** Whether the work tree had uncommitted changes. */
  dirty: boolean;
  runtime: string;
  cpu: string;
  runs: number;
  /** Per bench name: mean ns per call of each run, and relative to the baseline. */
  benches: Record<string, Figure>;
}

function parseFlags() {
  try {
    return parseArgs({
      args: cliArgs(),
      options: {
        runs: { type: "string", default: String(DEFAULT_RUNS) },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : e}\n${USAGE}`);
    Deno.exit(2);
  }
}

const flags = parseFlags();
if (flags.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const runs = Number(flags.runs);
if (!Number.isSafeInteger(runs) || runs < 3) {
  console.error(`--runs must be a whole number of at least 3, not ${flags.runs}.\n${USAGE}`);
  Deno.exit(2);
}

const decoder = new TextDecoder();

async function git(...args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command("git", { args, cwd: ROOT.pathname }).output();
  return decoder.decode(stdout).trim();
}

function spread(values: number[]): Spread {
  const mid = median(values);
  return {
    median: mid,
    noise: MAD_SCALE * median(values.map((x) => Math.abs(x - mid))),
    runs: values,
  };
}

const perBench = new Map<string, { baseline: boolean; ns: number[]; relative: number[] }>();
let last: BenchJson | undefined;
for (let i = 0; i < runs; i++) {
  console.error(`run ${i + 1} of ${runs}: deno bench --json ${SUITE}`);
  last = await benchJson([SUITE]);
  const baseline = last.benches.find((bench) => bench.baseline);
  if (baseline === undefined) throw new Error(`${SUITE} has no baseline bench.`);
  for (const bench of last.benches) {
    const figures = perBench.get(bench.name) ?? { baseline: bench.baseline, ns: [], relative: [] };
    figures.ns.push(meanOf(bench));
    figures.relative.push(meanOf(bench) / meanOf(baseline));
    perBench.set(bench.name, figures);
  }
}

const entry: Entry = {
  date: new Date().toISOString(),
  commit: await git("rev-parse", "--short", "HEAD"),
  dirty: (await git("status", "--porcelain", "--untracked-files=no")) !== "",
  runtime: last!.runtime,
  cpu: last!.cpu,
  runs,
  benches: Object.fromEntries(
    [...perBench].map(([name, { baseline, ns, relative }]) => [
      name,
      { ...spread(ns), baseline, relative: spread(relative) },
    ]),
  ),
};

const history = await Deno.readTextFile(HISTORY).catch((e) => {
  if (e instanceof Deno.errors.NotFound) return "";
  throw e;
});
const previous = history.trim() === ""
  ? undefined
  : JSON.parse(history.trim().split("\n").at(-1)!) as Entry;

const ns = (x: number) => `${x.toFixed(1)} ns`;
console.log(
  `${entry.commit}${
    entry.dirty ? " (uncommitted changes)" : ""
  }, ${runs} runs, mean ns per call and time over the baseline's: median ± noise`,
);
if (previous !== undefined) console.log(`against ${previous.commit} of ${previous.date}`);
/** How `now` compares with `before`: the change in percent, the noise, and the verdict. */
function judge(now: Spread, before: Spread): string {
  const change = now.median - before.median;
  const noise = NOISES * Math.max(now.noise, before.noise);
  const verdict = Math.abs(change) > noise ? (change < 0 ? "FASTER" : "SLOWER") : "within noise";
  const percent = (x: number) => (100 * x / before.median).toFixed(1);
  return `${change >= 0 ? "+" : ""}${percent(change)}% (noise ±${percent(noise)}%) ${verdict}`;
}

for (const [name, now] of Object.entries(entry.benches)) {
  const figures = `${ns(now.median)} ± ${ns(now.noise)}, ×${now.relative.median.toFixed(2)} ± ${
    now.relative.noise.toFixed(2)
  }`;
  const before = previous?.benches[name];
  if (before === undefined) {
    console.log(`  ${name}: ${figures} (new)`);
  } else if (now.baseline) {
    console.log(`  ${name} (baseline): ${figures}; in ns ${judge(now, before)}, with the load`);
  } else {
    console.log(
      `  ${name}: ${figures}; against the baseline ${judge(now.relative, before.relative)}`,
    );
  }
}

if (flags["dry-run"]) {
  console.log("--dry-run: the history is unchanged.");
} else {
  await Deno.writeTextFile(HISTORY, JSON.stringify(entry) + "\n", { append: true });
  console.log(`Appended to bench/history.jsonl.`);
}
