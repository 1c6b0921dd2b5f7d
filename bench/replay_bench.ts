// Replay speed on the four real traces: the library as it is in the work
// tree against the library as a git commit had it (d1ce605 unless
// REPLAY_BASE=<commit> says otherwise), both loaded as copies of src/ in one
// run, each replaying through its own `replayTrace` so that neither's calls
// see the other's `Pool`. One iteration replays a whole trace into a fresh
// pool of 2.5 times the trace's peak live bytes; its time over the events
// in the bench's name is the time per event. The traces live beside the
// repository (../shared/traces); without them this file registers nothing.
//
//   deno bench --allow-read --allow-write --allow-env --allow-run bench/replay_bench.ts
//   deno task bench:ratios -- bench/replay_bench.ts   (5 runs: old time / new time per trace)

import { libraryAtCommit, type LibraryCopy, libraryCopy } from "../tools/library_copy.ts";
import { parseTrace, type Trace } from "../src/trace/format.ts";
import { livePeaks } from "../src/trace/replay.ts";

type ReplayModule = typeof import("../src/trace/replay.ts");

/** The code a change is measured against: "today's", when this bench was written. */
const DEFAULT_BASE = "d1ce605";
/** The environment variable that names another commit to measure against. */
const BASE_VARIABLE = "REPLAY_BASE";
const TRACES = new URL("../../shared/traces/", import.meta.url);
const TRACE_NAMES = ["gcc-cc1plus", "git-log-p", "python-json", "sqlite-insert"];
/** The pool's bytes over the trace's peak live bytes: room enough that no replay fails. */
const POOL_FACTOR = 2.5;
/** Events each bench replays in all, whatever its trace's length: about a second's worth. */
const EVENTS_PER_BENCH = 12_000_000;
/** The fewest timed replays of a trace. */
const MIN_REPLAYS = 3;
/** Untimed replays first, for the compiler to settle. */
const WARMUP_REPLAYS = 1;
const REPLAY_MODULE = "trace/replay.ts";

async function readTraces(): Promise<Trace[]> {
  const traces: Trace[] = [];
  const missing: string[] = [];
  for (const name of TRACE_NAMES) {
    const bytes = await Deno.readFile(new URL(`${name}.trace.gz`, TRACES)).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    });
    if (bytes === null) missing.push(name);
    else traces.push(await parseTrace(bytes, { name }));
  }
  if (missing.length > 0) {
    console.error(
      `replay_bench: no ${missing.join(", ")} in ${TRACES.pathname}; ${
        traces.length === 0 ? "nothing is measured" : "the others are measured"
      }.`,
    );
  }
  return traces;
}

/** One iteration: a fresh pool over `buffer`, and the whole trace replayed into it, timed. */
function replayBench(copy: LibraryCopy, trace: Trace, buffer: ArrayBuffer, byteLength: number) {
  const { replayTrace } = copy.module<ReplayModule>(REPLAY_MODULE);
  return (b: Deno.BenchContext) => {
    const pool = new copy.Pool(buffer, { byteLength });
    b.start();
    const { failedAt } = replayTrace(trace, pool);
    b.end();
    if (failedAt >= 0) throw new Error(`${trace.name} ran out of room at event ${failedAt}.`);
  };
}

const traces = await readTraces();
if (traces.length > 0) {
  const base = Deno.env.get(BASE_VARIABLE) ?? DEFAULT_BASE;
  const options = { modules: [REPLAY_MODULE] };
  const now = await libraryCopy(true, options);
  const before = await libraryAtCommit(base, options);
  if (before === null) {
    console.error(`replay_bench: no git history with ${base}; only the work tree is measured.`);
  }
  const poolBytes = traces.map((trace) => Math.ceil(POOL_FACTOR * livePeaks(trace).peakLiveBytes));
  // One buffer for every pool: each bench finds the same memory, already touched.
  const buffer = new ArrayBuffer(Math.max(...poolBytes));
  traces.forEach((trace, i) => {
    const group = `replay ${trace.name}`;
    const events = `(${trace.length} events)`;
    const runs = {
      n: Math.max(MIN_REPLAYS, Math.ceil(EVENTS_PER_BENCH / trace.length)),
      warmup: WARMUP_REPLAYS,
    };
    Deno.bench(
      `work tree: ${trace.name} ${events}`,
      { group, baseline: true, ...runs },
      replayBench(now, trace, buffer, poolBytes[i]!),
    );
    if (before !== null) {
      Deno.bench(
        `${base}: ${trace.name} ${events}`,
        { group, ...runs },
        replayBench(before, trace, buffer, poolBytes[i]!),
      );
    }
  });
}
