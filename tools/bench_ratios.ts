// `deno task bench:ratios -- <bench files>`: runs `deno bench --json` on the
// files several times and prints, per group, each bench's mean time over the
// group baseline's, as the median and the range over the runs. The machine
// is shared and its load moves every timing from one run to the next, so
// the figure to read is the ratio to a peer measured in the same run; its
// spread over the runs says how much to trust it. With --from it reads
// saved `deno bench --json` outputs instead of running anything.

import { cliArgs, parseCli, runCli, UsageError } from "./_cli_args.ts";
import {
  BENCH_STATS,
  type BenchJson,
  benchJson,
  type BenchStat,
  meanOf,
  median,
} from "./_bench_json.ts";

const DEFAULT_RUNS = 5;
/** The group of the benches registered without one. */
const NO_GROUP = "(no group)";
/** A bench name that ends in "(<count> <things>)", such as "(258247 events)". */
const COUNT_IN_NAME = /\((\d+) (\w+)\)$/;
const NS_PER_MS = 1e6;
/** Above this many nanoseconds per iteration, times print in milliseconds. */
const PRINT_MS_FROM = 1e5;

const USAGE = `Usage: deno task bench:ratios -- [options] <bench files>
       deno task bench:ratios -- --from <run.json> [--from <run.json>...]

Runs \`deno bench --json\` on the bench files N times and prints, per group, each bench's
mean time (or --stat) over its group baseline's (the group's first bench if none is marked): the
median and the range (min-max) of that ratio over the runs, and the median time. A bench
whose name ends in "(<count> <things>)", such as "(258247 events)", also gets its
median time per thing.

Options:
  --runs N         runs of deno bench (default ${DEFAULT_RUNS})
  --filter TEXT    passed to deno bench: only the benches whose names match
  --stat S         the time per iteration compared: ${BENCH_STATS.join(", ")} (default avg); min
                   is the least disturbed iteration, steadier when the machine is busy
  --save DIR       keep each run's output as DIR/run-<i>.json
  --from FILE      read a saved \`deno bench --json\` output instead of running (repeatable)
  -h, --help       this text

Example: old time / new time per trace, 5 runs:
  deno task bench:ratios -- bench/replay_bench.ts`;
const HINT = "Usage: deno task bench:ratios -- [options] <bench files>; -h for the options.";

/** One bench over the runs: its mean time in each run, and that time over the baseline's. */
interface Figures {
  baseline: boolean;
  ns: number[];
  ratios: number[];
}

/** Per group, in the order first seen: per bench name, its figures. */
type Groups = Map<string, Map<string, Figures>>;

/** Adds one run's benches to `groups`, each as its time (`stat`) over its group baseline's. */
function addRun(groups: Groups, run: BenchJson, stat: BenchStat): void {
  const byGroup = Map.groupBy(run.benches, (bench) => bench.group ?? NO_GROUP);
  for (const [group, benches] of byGroup) {
    const baseline = benches.find((bench) => bench.baseline) ?? benches[0]!;
    const figures = groups.get(group) ?? new Map<string, Figures>();
    groups.set(group, figures);
    for (const bench of benches) {
      const entry = figures.get(bench.name) ?? { baseline: bench === baseline, ns: [], ratios: [] };
      entry.ns.push(meanOf(bench, stat));
      entry.ratios.push(meanOf(bench, stat) / meanOf(baseline, stat));
      figures.set(bench.name, entry);
    }
  }
}

function time(ns: number): string {
  return ns >= PRINT_MS_FROM ? `${(ns / NS_PER_MS).toFixed(1)} ms` : `${ns.toFixed(1)} ns`;
}

/** The median time, and per thing when the name counts them. */
function times(name: string, ns: number[]): string {
  const mid = median(ns);
  const count = COUNT_IN_NAME.exec(name);
  if (count === null) return time(mid);
  const [, things, unit] = count;
  return `${time(mid)}, ${(mid / Number(things)).toFixed(2)} ns per ${unit!.replace(/s$/, "")}`;
}

function report(groups: Groups): void {
  for (const [group, figures] of groups) {
    console.log(group);
    // The baseline first, the rest as registered.
    const ordered = [...figures].toSorted(([, a], [, b]) =>
      Number(b.baseline) - Number(a.baseline)
    );
    for (const [name, { baseline, ns, ratios }] of ordered) {
      const r = (x: number) => x.toFixed(3);
      const ratio = baseline
        ? "baseline"
        : `${r(median(ratios))}x (${r(Math.min(...ratios))}-${r(Math.max(...ratios))})`;
      console.log(`  ${name}: ${ratio}; ${times(name, ns)} (${ns.length} runs)`);
    }
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseCli({
    args: cliArgs(),
    allowPositionals: true,
    options: {
      runs: { type: "string", default: String(DEFAULT_RUNS) },
      filter: { type: "string" },
      stat: { type: "string", default: "avg" },
      save: { type: "string" },
      from: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const stat = BENCH_STATS.find((name) => name === values.stat);
  if (stat === undefined) {
    throw new UsageError(`--stat must be one of ${BENCH_STATS.join(", ")}, not "${values.stat}".`);
  }
  const groups: Groups = new Map();
  if (values.from !== undefined) {
    if (positionals.length > 0) throw new UsageError("Give bench files or --from, not both.");
    for (const file of values.from) addRun(groups, JSON.parse(await Deno.readTextFile(file)), stat);
    report(groups);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("Name at least one bench file.");
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new UsageError(`--runs must be a whole number of at least 1, not "${values.runs}".`);
  }
  // deno bench runs in the repository's root; the files are named from here.
  const here = new URL(`file://${Deno.cwd()}/`);
  const args = [
    ...(values.filter === undefined ? [] : ["--filter", values.filter]),
    ...positionals.map((file) => new URL(file, here).pathname),
  ];
  if (values.save !== undefined) await Deno.mkdir(values.save, { recursive: true });
  for (let i = 1; i <= runs; i++) {
    console.error(`run ${i} of ${runs}: deno bench --json ${positionals.join(" ")}`);
    const run = await benchJson(args);
    if (values.save !== undefined) {
      await Deno.writeTextFile(`${values.save}/run-${i}.json`, JSON.stringify(run, null, 2));
    }
    addRun(groups, run, stat);
  }
  report(groups);
  return 0;
}

if (import.meta.main) await runCli(main, HINT);
