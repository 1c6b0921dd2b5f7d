// Running `deno bench --json` and reading what it prints, for the tools that
// repeat a bench file and compare the runs (bench_track.ts, bench_ratios.ts).

/** The repository's root, where the bench files' paths start. */
export const ROOT = new URL("../", import.meta.url);

/** What the benches need: the library copies write, read and run git, and read the environment. */
const BENCH_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-run"];

/** Figures `deno bench --json` gives per bench, in nanoseconds per iteration. */
export const BENCH_STATS = ["avg", "min", "p75", "max"] as const;
/** One of `BENCH_STATS`. */
export type BenchStat = typeof BENCH_STATS[number];

/** One bench of a `deno bench --json` output. */
export interface BenchEntry {
  name: string;
  /** Absent for a bench registered without a group. */
  group?: string;
  baseline: boolean;
  results: { ok?: Record<BenchStat, number> }[];
}

/** The parts of a `deno bench --json` output the tools read. */
export interface BenchJson {
  runtime: string;
  cpu: string;
  benches: BenchEntry[];
}

const decoder = new TextDecoder();

/**
 * Runs `deno bench --json` with the benches' permissions and `args` (bench
 * files, and flags such as `--filter`) in the repository's root, and returns
 * what it printed on stdout.
 */
export async function benchJson(args: readonly string[]): Promise<BenchJson> {
  // Its errors and the benches' notes go straight to ours.
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "--json", ...BENCH_PERMISSIONS, ...args],
    cwd: ROOT.pathname,
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`deno bench ${args.join(" ")} failed (exit code ${code}).`);
  return JSON.parse(decoder.decode(stdout));
}

/** A bench's mean time per iteration (or another of its figures), in nanoseconds. */
export function meanOf(bench: BenchEntry, stat: BenchStat = "avg"): number {
  const figure = bench.results[0]?.ok?.[stat];
  if (figure === undefined) throw new Error(`The bench "${bench.name}" failed.`);
  return figure;
}

/** The median of `values` (the mean of the middle two when their number is even). */
export function median(values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
