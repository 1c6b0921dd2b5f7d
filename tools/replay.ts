// Replays allocation traces through @mm/alloc and reports, per trace, the
// memory it needs and the time each operation takes; optionally the same for
// a peer allocator, side by side. Run `deno task replay -- --help`. Our
// figures come from the library's `analyzeTrace`, so the two always agree.

import { cliArgs, parseCli, runCli, UsageError } from "./_cli_args.ts";
import { Progress } from "./_progress.ts";
import {
  analyzeTrace,
  type OperationTimes,
  parseTrace,
  type Trace,
  type TraceAnalysis,
} from "@mm/alloc/trace";
import { DEFAULT_TOLERANCE } from "../src/trace/replay.ts";
import {
  memorySplit,
  TIMED_RUNS,
  timeOperations,
  TIMER_SAMPLES,
  UNTIMED_RUNS,
} from "../src/trace/analysis.ts";
import { MAX_POOL_BYTES, Size } from "../src/engine/tlsf.ts";
import {
  FIT_POLICIES,
  type FitPolicy,
  hasAlignedRequests,
  type ReferenceSize,
  referenceSize,
} from "./_reference_fits.ts";

const ALIGN: number = Size.Align;

/** Times are measured in a pool this many times the minimum. */
const HEADROOM = 2;
/** The peer's operations cost O(live blocks); this many keep a run to minutes. */
const DEFAULT_PEER_LIMIT = 100_000;
/** Untimed replays of the peer for its mean: it is slow, so one. */
const PEER_UNTIMED_RUNS = 1;

const USAGE = `Usage: deno task replay -- [options] <trace files (.trace or .trace.gz)>

For each trace: the smallest pool that replays it (bisection to --tolerance),
its memory factor (pool / peak live bytes) split into overhead (peak
bytesUsed / peak live bytes) and external fragmentation (pool / peak
bytesUsed - 1), so that factor = overhead x (1 + external fragmentation),
and per-operation times in a pool with ${HEADROOM}x headroom. The library
function analyzeTrace gives the same figures for our pool.

Options:
  --json            print JSON for machines instead of tables
  --peer thing      also replay through @thi.ng/malloc's MemPool, side by side
                    (needs --allow-env=NODE_ENV, which that package reads)
  --peer-limit N    compare only the first N operations of each trace, sizing
                    and timing both allocators on those (default ${DEFAULT_PEER_LIMIT});
                    "all" compares whole traces. The default is bounded
                    because MemPool's malloc and free walk its block lists, so
                    its replays slow down as the heap grows: a whole real
                    trace can take it hours
  --fits            also size each trace with the classic fit policies (first
                    fit, best fit, address-ordered best fit) simulated exactly
                    with our block rules, and show their external
                    fragmentation beside ours
  --tolerance F     sizing precision as a fraction (default ${DEFAULT_TOLERANCE})
  --svg DIR         also write, per trace, DIR/<trace>.heap.svg (the heap over
                    time: address against operation, blocks coloured by size,
                    the peak marked) and DIR/<trace>.peak.svg (the pool at its
                    peak, as the playground draws it), both in the minimum pool
  -h, --help        show this text`;
const HINT = "Usage: deno task replay -- [options] <trace files>; -h for the options.";

/** A timer step above this blurs operations that take tens of nanoseconds. */
const COARSE_NS = 50;
const PERCENT = 100;

/** One allocator's figures on one trace (or the first operations of it), timed. */
type Figures = TraceAnalysis & { times: OperationTimes };

interface PeerComparison {
  peer: string;
  /** Operations both allocators replayed: the first ones of the trace. */
  operations: number;
  ours: Figures;
  theirs: Figures;
  /** Their mean time per operation over ours. */
  speedup: number;
}

interface TraceReport {
  trace: string;
  description: string;
  operations: number;
  peakLiveBytes: number;
  peakLiveBlocks: number;
  ours: Figures;
  comparison?: PeerComparison;
  /** With --fits: each policy's sizing; null for a trace with aligned requests, which they cannot replay. */
  fits?: Record<FitPolicy, ReferenceSize> | null;
}

const progress = new Progress();

/**
 * Parses a trace file, showing how much of it has been read: the parser
 * consumes the file as it reads it, so that is how far parsing has got.
 */
async function readTrace(path: string, name: string): Promise<Trace> {
  const file = await Deno.open(path);
  let size: number;
  try {
    size = (await file.stat()).size;
  } catch (error) {
    file.close();
    throw error;
  }
  let read = 0;
  const counted = file.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.length;
        // A pipe or device has no size to count against.
        progress.show(
          size > 0
            ? `${name}: parsing, ${Math.round((read / size) * PERCENT)}% of ${count(size)} bytes`
            : `${name}: parsing, ${count(read)} bytes read`,
        );
        controller.enqueue(chunk);
      },
    }),
  );
  // Errors name the file as given; tables use the short name.
  return { ...await parseTrace(counted, { name: path }), name };
}

/** Our figures for the first `limit` operations of `trace`. */
function measureOurs(trace: Trace, limit: number, tolerance: number): Figures {
  const label = limit < trace.length ? `${trace.name} (first ${limit} ops)` : trace.name;
  return analyzeTrace(trace, {
    limit,
    tolerance,
    headroom: HEADROOM,
    onProgress: (p) =>
      progress.show(
        p.phase === "sizing"
          ? `${label}: sizing, trial ${p.trials} at ${count(p.poolSize)} bytes`
          : `${label}: timing, ${p.replays} of ${p.of} replays done`,
      ),
  });
}

/** MemPool's figures for the first `limit` operations, against `ours` on the same. */
async function measureThing(
  trace: Trace,
  limit: number,
  ours: Figures,
  tolerance: number,
): Promise<Figures> {
  const { replayThing, thingMinimumPoolSize } = await import("./_thing_replay.ts");
  const operations = Math.min(limit, trace.length);
  const label = `${trace.name}: thi.ng`;
  let phase = "sizing";
  const onProgress = (done: number) =>
    progress.show(`${label}: ${phase}, ${Math.round((done / operations) * PERCENT)}%`);
  let trials = 0;
  const sizing = thingMinimumPoolSize(trace, ours.peakLiveBytes, {
    limit,
    tolerance,
    onTrial: () => phase = `sizing (${++trials} trials done)`,
    onProgress,
  });
  // MemPool keeps offsets in 32 bits, so its end must stay below 4 GiB.
  const poolSize = Math.min(sizing.poolSize * HEADROOM, MAX_POOL_BYTES - ALIGN);
  const buffer = new ArrayBuffer(poolSize);
  const times = timeOperations(operations, (timings) => {
    replayThing(trace, buffer, poolSize, { limit, onProgress, ...(timings ? { timings } : {}) });
  }, {
    untimedRuns: PEER_UNTIMED_RUNS,
    onReplay: (replays, of) => {
      phase = replays < PEER_UNTIMED_RUNS
        ? "untimed run"
        : `timing, replay ${replays + 1} of ${of}`;
    },
  });
  return {
    operations,
    peakLiveBytes: ours.peakLiveBytes,
    peakLiveBlocks: ours.peakLiveBlocks,
    poolSize: sizing.poolSize,
    metadataBytes: sizing.metadataBytes,
    peakBytesUsed: sizing.peakBytesUsed,
    ...memorySplit(sizing.poolSize, sizing.peakBytesUsed, ours.peakLiveBytes),
    times: { poolSize, ...times },
  };
}

/** Each classic fit policy's smallest pool for `trace`, or null if it has aligned requests. */
function measureFits(trace: Trace, tolerance: number): Record<FitPolicy, ReferenceSize> | null {
  if (hasAlignedRequests(trace)) return null;
  const fits = {} as Record<FitPolicy, ReferenceSize>;
  for (const policy of FIT_POLICIES) {
    progress.show(`${trace.name}: sizing for ${policy}`);
    fits[policy] = referenceSize(trace, policy, { tolerance });
  }
  return fits;
}

async function report(
  path: string,
  options: {
    peer: string | undefined;
    peerLimit: number;
    tolerance: number;
    fits: boolean;
    svg?: string | undefined;
  },
): Promise<TraceReport> {
  const name = path.split("/").pop()!.replace(/\.trace(\.gz)?$/, "");
  progress.start();
  const trace = await readTrace(path, name);
  const ours = measureOurs(trace, trace.length, options.tolerance);
  const result: TraceReport = {
    trace: name,
    description: trace.description,
    operations: trace.length,
    peakLiveBytes: ours.peakLiveBytes,
    peakLiveBlocks: ours.peakLiveBlocks,
    ours,
  };
  if (options.peer !== undefined) {
    const limit = Math.min(options.peerLimit, trace.length);
    const oursHere = limit < trace.length ? measureOurs(trace, limit, options.tolerance) : ours;
    const theirs = await measureThing(trace, limit, oursHere, options.tolerance);
    result.comparison = {
      peer: options.peer,
      operations: limit,
      ours: oursHere,
      theirs,
      speedup: theirs.times.meanNs / oursHere.times.meanNs,
    };
  }
  if (options.fits) result.fits = measureFits(trace, options.tolerance);
  if (options.svg !== undefined) {
    progress.show(`${name}: drawing`);
    const { writeHeapSvgs } = await import("./_heap_svg.ts");
    const paths = await writeHeapSvgs(trace, ours.poolSize, options.svg, name);
    progress.clear();
    console.error(`wrote ${paths.join(" and ")}`);
  }
  progress.clear();
  return result;
}

// ── output ──────────────────────────────────────────────────────────────────

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const ratio = (x: number) => x.toFixed(3);
const percent = (x: number) => `${(x * PERCENT).toFixed(2)}%`;
const ns = (x: number) => x < 10 ? `${x.toFixed(1)} ns` : `${count(x)} ns`;

/** Columns of text, each padded to its widest cell; the first left-aligned, the rest right. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows
    .map((row) =>
      row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)).join("  ")
    )
    .join("\n");
}

const FIGURE_HEADINGS = [
  "min pool",
  "factor",
  "overhead",
  "ext.frag",
  "mean",
  "median",
  "p99",
  "p99.9",
  "max",
];

function figureCells(f: Figures): string[] {
  return [
    count(f.poolSize),
    ratio(f.memoryFactor),
    ratio(f.overhead),
    percent(f.externalFragmentation),
    ns(f.times.meanNs),
    ns(f.times.medianNs),
    ns(f.times.p99Ns),
    ns(f.times.p999Ns),
    ns(f.times.maxNs),
  ];
}

/** What each ratio is, for the JSON output and the tables' heading. */
const DEFINITIONS = {
  memoryFactor: "poolSize / peakLiveBytes = overhead * (1 + externalFragmentation)",
  overhead: "peakBytesUsed / peakLiveBytes",
  externalFragmentation: "poolSize / peakBytesUsed - 1",
};

function printTables(reports: TraceReport[], tolerance: number): void {
  const { timerCostNs, timerResolutionNs } = reports[0]!.ours.times;
  const coarse = timerResolutionNs > COARSE_NS
    ? `\nWARNING: the timer steps by ${ns(timerResolutionNs)}, ` +
      `so median..max are multiples of that, not per-operation detail.`
    : "";
  console.log(
    `@mm/alloc trace replay: minimum pool by bisection to ${percent(tolerance)}; ` +
      `times in a pool ${HEADROOM}x that size.\n` +
      `factor = min pool / peak live bytes = overhead x (1 + ext.frag); ` +
      `overhead = peak bytesUsed / peak live bytes; ext.frag = min pool / peak bytesUsed - 1.\n` +
      `mean: an untimed replay (fastest of ${UNTIMED_RUNS}) / operations. median..max: ` +
      `performance.now() (step ${ns(timerResolutionNs)}) read around each ` +
      `operation, less what one reading costs (${ns(timerCostNs)}, the median of ` +
      `${count(TIMER_SAMPLES)} empty intervals);\n` +
      `each operation counts with its fastest time of ${TIMED_RUNS} timed replays, so ` +
      `one-off interruptions (GC, other processes) drop out.${coarse}\n`,
  );
  console.log(table([
    ["trace", "ops", "peak live", "blocks", ...FIGURE_HEADINGS],
    ...reports.map((r) => [
      r.trace,
      count(r.operations),
      count(r.peakLiveBytes),
      count(r.peakLiveBlocks),
      ...figureCells(r.ours),
    ]),
  ]));
  printFits(reports);
  const compared = reports.filter((r) => r.comparison !== undefined);
  if (compared.length === 0) return;
  console.log(
    `\nSide by side with @thi.ng/malloc's MemPool, both sized and timed on the operations ` +
      `shown (--peer-limit); mean: the fastest of ${UNTIMED_RUNS} untimed replays for ours, ` +
      `${PEER_UNTIMED_RUNS} for theirs:\n`,
  );
  const rows = [["trace", "ops", "allocator", ...FIGURE_HEADINGS, "speedup"]];
  for (const r of compared) {
    const c = r.comparison!;
    const ops = c.operations < r.operations
      ? `${count(c.operations)} of ${count(r.operations)}`
      : count(c.operations);
    rows.push([r.trace, ops, "@mm/alloc", ...figureCells(c.ours), `${count(c.speedup)}x`]);
    rows.push(["", "", PEER_NAMES[c.peer] ?? c.peer, ...figureCells(c.theirs), ""]);
  }
  console.log(table(rows));
}

/** With --fits: external fragmentation, ours and each policy's, and the mean over the traces they all replay. */
function printFits(reports: TraceReport[]): void {
  const sized = reports.filter((r) => r.fits !== undefined);
  if (sized.length === 0) return;
  console.log(
    `\nExternal fragmentation beside the classic fit policies, simulated exactly with our ` +
      `block rules (header, alignment, smallest block, no metadata) and C's realloc:\n`,
  );
  const rows = [["trace", "@mm/alloc", ...FIT_POLICIES]];
  const sums = new Array<number>(FIT_POLICIES.length + 1).fill(0);
  let all = 0;
  for (const r of sized) {
    const ours = r.ours.externalFragmentation;
    if (!r.fits) {
      rows.push([r.trace, percent(ours), ...FIT_POLICIES.map(() => "aligned")]);
      continue;
    }
    const figures = [ours, ...FIT_POLICIES.map((p) => r.fits![p].externalFragmentation)];
    figures.forEach((f, i) => sums[i]! += f);
    all++;
    rows.push([r.trace, ...figures.map(percent)]);
  }
  if (all > 1) rows.push([`mean of ${all}`, ...sums.map((sum) => percent(sum / all))]);
  console.log(table(rows));
}

// ── main ────────────────────────────────────────────────────────────────────

/** Peers by their option value, with the name the tables show. */
const PEER_NAMES: Record<string, string> = { thing: "thi.ng" };
const PEERS = Object.keys(PEER_NAMES);

function fail(message: string): never {
  throw new UsageError(message);
}

function numberOption(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !(value >= 0) || !Number.isFinite(value)) {
    fail(`${name} must be a number of at least 0, not "${text}".`);
  }
  return value;
}

/** --peer-limit: a count of operations, or "all" (Infinity) for whole traces. */
function peerLimitOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PEER_LIMIT;
  if (text === "all") return Infinity;
  const value = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(value) || value < 1) {
    fail(`--peer-limit must be a whole number of operations, at least 1, or "all"; not "${text}".`);
  }
  return value;
}

async function main(): Promise<number> {
  const { values, positionals } = parseCli({
    args: cliArgs(),
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      peer: { type: "string" },
      "peer-limit": { type: "string" },
      tolerance: { type: "string" },
      fits: { type: "boolean" },
      svg: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) fail("Name at least one trace file.");
  if (values.peer !== undefined && !PEERS.includes(values.peer)) {
    fail(`Unknown peer "${values.peer}"; the peers are: ${PEERS.join(", ")}.`);
  }
  const peerLimit = peerLimitOption(values["peer-limit"]);
  const tolerance = numberOption(values.tolerance, "--tolerance", DEFAULT_TOLERANCE);
  const reports: TraceReport[] = [];
  for (const path of positionals) {
    try {
      reports.push(
        await report(path, {
          peer: values.peer,
          peerLimit,
          tolerance,
          fits: values.fits ?? false,
          svg: values.svg,
        }),
      );
    } catch (error) {
      progress.clear();
      console.error(error instanceof Error ? error.message : String(error));
      return 1;
    }
  }
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          tolerance,
          headroom: HEADROOM,
          definitions: DEFINITIONS,
          traces: reports,
        },
        null,
        2,
      ),
    );
  } else {
    printTables(reports, tolerance);
  }
  return 0;
}

if (import.meta.main) await runCli(main, HINT);
