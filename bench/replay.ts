// Replays allocation traces through @mm/alloc and reports, per trace, the
// memory it needs and the time each operation takes; optionally the same for
// a peer allocator, side by side. Run `deno task replay -- --help`.

import { parseArgs } from "node:util";
import { cliArgs } from "./_cli_args.ts";
import { minimumPoolSize, parseTrace, Pool, replayTrace, type Trace } from "@mm/alloc";
import { MAX_POOL_BYTES, Size } from "../src/tlsf.ts";
import type { ThingReplayOptions } from "./_thing_replay.ts";

const ALIGN: number = Size.Align;

const USAGE = `Usage: deno task replay -- [options] <trace files (.trace or .trace.gz)>

For each trace: the smallest pool that replays it (bisection to --tolerance),
its memory factor (pool / peak live bytes) split into overhead (peak
bytesUsed / peak live bytes) and external fragmentation ((pool - metadata) /
peak bytesUsed - 1), and per-operation times in a pool with 2x headroom.

Options:
  --json            print JSON for machines instead of tables
  --peer thing      also replay through @thi.ng/malloc's MemPool, side by side
                    (needs --allow-env=NODE_ENV, which that package reads)
  --peer-limit N    replay only the first N operations of each trace through
                    the peer, and through ours for the comparison (default
                    100000): MemPool's malloc and free walk its block lists,
                    so whole traces can take hours
  --tolerance F     sizing precision as a fraction (default 0.001)
  --help            show this text`;

/** The peer's operations cost O(live blocks); this many keep a run to minutes. */
const DEFAULT_PEER_LIMIT = 100_000;
/**
 * Finer than the 0.5% a pool size needs: the search's slack counts as
 * external fragmentation, and at 0.5% it would be up to half a point of it.
 */
const DEFAULT_TOLERANCE = 0.001;
/** Times are measured in a pool this many times the minimum. */
const HEADROOM = 2;
/** Untimed replays of our pool for the mean; the fastest counts. */
const MEAN_RUNS = 3;
/**
 * Timed replays; each operation's time is its fastest, so a one-off
 * interruption (a GC, another process) is not charged to the allocator,
 * while an operation that is slow every time still is.
 */
const TIMED_RUNS = 3;
/** Timer readings are rounded to this many ms (a picosecond) to drop float noise. */
const READING_QUANTUM = 1e-9;
/** Empty timer intervals measured to find the timer's own cost. */
const TIMER_SAMPLES = 200_000;
const NS_PER_MS = 1e6;
/** READING_QUANTUM is a picosecond; JSON gives the step in ns. */
const PS_PER_NS = 1000;
/** A timer step above this blurs operations that take tens of nanoseconds. */
const COARSE_NS = 50;
const PERCENT = 100;
/** Progress appears only for work that takes longer than this (ms), and updates this often. */
const PROGRESS_DELAY = 500;
const PROGRESS_EVERY = 100;

/** Per-operation times, in nanoseconds. */
interface Times {
  /** Whole untimed replay divided by its operations. */
  meanNs: number;
  medianNs: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
}

/** One allocator's figures on one trace (or the first operations of it). */
interface Figures extends Times {
  operations: number;
  poolSize: number;
  metadataBytes: number;
  peakBytesUsed: number;
  peakLiveBytes: number;
  peakLiveBlocks: number;
  memoryFactor: number;
  overhead: number;
  externalFragmentation: number;
}

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
}

/** A one-line status on stderr, for terminals only, and only once work has gone on a while. */
class Progress {
  readonly #enabled = Deno.stderr.isTerminal();
  readonly #encoder = new TextEncoder();
  #since = 0;
  #last = 0;
  #shown = false;

  start(): void {
    this.#since = performance.now();
    this.#last = 0;
  }

  show(text: string): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#since < PROGRESS_DELAY || now - this.#last < PROGRESS_EVERY) return;
    this.#last = now;
    this.#shown = true;
    Deno.stderr.writeSync(this.#encoder.encode(`\r\x1b[K${text}`));
  }

  clear(): void {
    if (this.#shown) Deno.stderr.writeSync(this.#encoder.encode("\r\x1b[K"));
    this.#shown = false;
  }
}

const progress = new Progress();

/** The timer, as measured: what one reading costs and the smallest step it takes (ms). */
interface Timer {
  cost: number;
  resolution: number;
}

function quantize(ms: number): number {
  return Math.round(ms / READING_QUANTUM) * READING_QUANTUM;
}

/**
 * Measures `performance.now()`: the median of many empty intervals (two
 * readings with nothing between) is what one reading adds to a timed
 * operation; the smallest difference between two such intervals is its step.
 */
function calibrateTimer(): Timer {
  const samples = new Float64Array(TIMER_SAMPLES);
  for (let i = 0; i < samples.length; i++) {
    const start = performance.now();
    samples[i] = performance.now() - start;
  }
  samples.sort();
  for (let i = 0; i < samples.length; i++) samples[i] = quantize(samples[i]!);
  let resolution = Infinity;
  for (let i = 1; i < samples.length; i++) {
    const step = samples[i]! - samples[i - 1]!;
    if (step > 0 && step < resolution) resolution = step;
  }
  return { cost: samples[samples.length >> 1]!, resolution: quantize(resolution) };
}

/** Percentiles of per-operation timings (ms, each including one timer reading) in ns. */
function summarize(timings: Float64Array, { cost }: Timer): Omit<Times, "meanNs"> {
  const sorted = timings.slice().sort();
  const at = (fraction: number) => {
    const ms = sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
    return Math.max(0, ms - cost) * NS_PER_MS;
  };
  return { medianNs: at(0.5), p99Ns: at(0.99), p999Ns: at(0.999), maxNs: at(1) };
}

/** Each operation's fastest time over TIMED_RUNS runs of `replay`, which fills the array it gets. */
function fastestTimes(operations: number, replay: (timings: Float64Array) => void): Float64Array {
  const fastest = new Float64Array(operations).fill(Infinity);
  const timings = new Float64Array(operations);
  for (let run = 0; run < TIMED_RUNS; run++) {
    replay(timings);
    for (let i = 0; i < operations; i++) {
      if (timings[i]! < fastest[i]!) fastest[i] = timings[i]!;
    }
  }
  return fastest;
}

/** Runs `replay` and returns its time per operation in ns. */
function timePerOp(operations: number, replay: () => void): number {
  const start = performance.now();
  replay();
  return ((performance.now() - start) * NS_PER_MS) / Math.max(1, operations);
}

interface Sizing {
  poolSize: number;
  metadataBytes: number;
  peakBytesUsed: number;
}

interface Peaks {
  peakLiveBytes: number;
  peakLiveBlocks: number;
}

function memoryFigures(sizing: Sizing, { peakLiveBytes, peakLiveBlocks }: Peaks) {
  return {
    poolSize: sizing.poolSize,
    metadataBytes: sizing.metadataBytes,
    peakBytesUsed: sizing.peakBytesUsed,
    peakLiveBytes,
    peakLiveBlocks,
    memoryFactor: sizing.poolSize / peakLiveBytes,
    overhead: sizing.peakBytesUsed / peakLiveBytes,
    externalFragmentation: (sizing.poolSize - sizing.metadataBytes) / sizing.peakBytesUsed - 1,
  };
}

/** Our figures for the first `limit` operations of `trace`. */
function measureOurs(trace: Trace, limit: number, tolerance: number, timer: Timer): Figures {
  const label = limit < trace.length ? `${trace.name} (first ${limit} ops)` : trace.name;
  let trial = 0;
  const sizing = minimumPoolSize(trace, {
    limit,
    tolerance,
    onTrial: (poolSize) => progress.show(`${label}: sizing, trial ${++trial} at ${poolSize} bytes`),
  });
  const poolSize = Math.min(sizing.poolSize * HEADROOM, MAX_POOL_BYTES);
  const buffer = new ArrayBuffer(poolSize);
  const fresh = () => new Pool(buffer, { byteLength: poolSize });
  const operations = Math.min(limit, trace.length);
  progress.show(`${label}: timing`);
  // The untimed runs go first: they also touch every page the timed run will use.
  let meanNs = Infinity;
  for (let run = 0; run < MEAN_RUNS; run++) {
    meanNs = Math.min(meanNs, timePerOp(operations, () => replayTrace(trace, fresh(), { limit })));
  }
  const timings = fastestTimes(operations, (timings) => {
    replayTrace(trace, fresh(), { limit, timings });
  });
  return {
    operations,
    ...memoryFigures(sizing, sizing),
    meanNs,
    ...summarize(timings, timer),
  };
}

/** MemPool's figures for the first `limit` operations, against ours on the same. */
async function measureThing(
  trace: Trace,
  limit: number,
  peaks: Peaks,
  tolerance: number,
  timer: Timer,
): Promise<Figures> {
  const { replayThing, thingMinimumPoolSize } = await import("./_thing_replay.ts");
  const operations = Math.min(limit, trace.length);
  const label = `${trace.name}: thi.ng`;
  let phase = "sizing";
  const onProgress = (done: number) =>
    progress.show(`${label}: ${phase}, ${Math.round((done / operations) * PERCENT)}%`);
  let trials = 0;
  const sizing = thingMinimumPoolSize(trace, peaks.peakLiveBytes, {
    limit,
    tolerance,
    onTrial: () => phase = `sizing (${++trials} trials done)`,
    onProgress,
  });
  // MemPool keeps offsets in 32 bits, so its end must stay below 4 GiB.
  const poolSize = Math.min(sizing.poolSize * HEADROOM, MAX_POOL_BYTES - ALIGN);
  const buffer = new ArrayBuffer(poolSize);
  const run = (options: ThingReplayOptions) => replayThing(trace, buffer, poolSize, options);
  phase = "untimed run";
  const meanNs = timePerOp(operations, () => run({ limit, onProgress }));
  phase = "timing";
  const timings = fastestTimes(operations, (timings) => {
    run({ limit, timings, onProgress });
  });
  return {
    operations,
    ...memoryFigures(sizing, peaks),
    meanNs,
    ...summarize(timings, timer),
  };
}

async function report(
  path: string,
  options: { peer: string | undefined; peerLimit: number; tolerance: number; timer: Timer },
): Promise<TraceReport> {
  const name = path.split("/").pop()!.replace(/\.trace(\.gz)?$/, "");
  progress.start();
  progress.show(`${name}: parsing`);
  const file = await Deno.open(path);
  // Errors name the file as given; tables use the short name.
  const trace = { ...await parseTrace(file.readable, { name: path }), name };
  const ours = measureOurs(trace, trace.length, options.tolerance, options.timer);
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
    const oursHere = limit < trace.length
      ? measureOurs(trace, limit, options.tolerance, options.timer)
      : ours;
    const theirs = await measureThing(trace, limit, oursHere, options.tolerance, options.timer);
    result.comparison = {
      peer: options.peer,
      operations: limit,
      ours: oursHere,
      theirs,
      speedup: theirs.meanNs / oursHere.meanNs,
    };
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
    ns(f.meanNs),
    ns(f.medianNs),
    ns(f.p99Ns),
    ns(f.p999Ns),
    ns(f.maxNs),
  ];
}

function printTables(reports: TraceReport[], timer: Timer, tolerance: number): void {
  const coarse = timer.resolution * NS_PER_MS > COARSE_NS
    ? `\nWARNING: the timer steps by ${ns(timer.resolution * NS_PER_MS)}, ` +
      `so median..max are multiples of that, not per-operation detail.`
    : "";
  console.log(
    `@mm/alloc trace replay: minimum pool by bisection to ${percent(tolerance)}; ` +
      `times in a pool ${HEADROOM}x that size.\n` +
      `factor = min pool / peak live bytes; overhead = peak bytesUsed / peak live bytes; ` +
      `ext.frag = (min pool - metadata) / peak bytesUsed - 1.\n` +
      `mean: an untimed replay (fastest of ${MEAN_RUNS}) / operations. median..max: ` +
      `performance.now() (step ${ns(timer.resolution * NS_PER_MS)}) read around each ` +
      `operation, less what one reading costs (${ns(timer.cost * NS_PER_MS)}, the median of ` +
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
  const compared = reports.filter((r) => r.comparison !== undefined);
  if (compared.length === 0) return;
  console.log(
    `\nSide by side with @thi.ng/malloc's MemPool, on the first operations of each trace ` +
      `(both sized and timed on the same ones; mean is one untimed run each):\n`,
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

// ── main ────────────────────────────────────────────────────────────────────

/** Peers by their option value, with the name the tables show. */
const PEER_NAMES: Record<string, string> = { thing: "thi.ng" };
const PEERS = Object.keys(PEER_NAMES);

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  Deno.exit(2);
}

function numberOption(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !(value >= 0) || !Number.isFinite(value)) {
    fail(`${name} must be a number of at least 0, not "${text}".`);
  }
  return value;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: cliArgs(),
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        peer: { type: "string" },
        "peer-limit": { type: "string" },
        tolerance: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length === 0) fail("Name at least one trace file.");
  if (values.peer !== undefined && !PEERS.includes(values.peer)) {
    fail(`Unknown peer "${values.peer}"; the peers are: ${PEERS.join(", ")}.`);
  }
  const peerLimit = numberOption(values["peer-limit"], "--peer-limit", DEFAULT_PEER_LIMIT);
  if (!Number.isSafeInteger(peerLimit) || peerLimit === 0) {
    fail("--peer-limit must be a whole number of operations, at least 1.");
  }
  const tolerance = numberOption(values.tolerance, "--tolerance", DEFAULT_TOLERANCE);
  const timer = calibrateTimer();
  const reports: TraceReport[] = [];
  for (const path of positionals) {
    try {
      reports.push(await report(path, { peer: values.peer, peerLimit, tolerance, timer }));
    } catch (error) {
      progress.clear();
      console.error(error instanceof Error ? error.message : String(error));
      Deno.exit(1);
    }
  }
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          tolerance,
          headroom: HEADROOM,
          timerCostNs: Math.round(timer.cost / READING_QUANTUM) / PS_PER_NS,
          timerResolutionNs: Math.round(timer.resolution / READING_QUANTUM) / PS_PER_NS,
          traces: reports,
        },
        null,
        2,
      ),
    );
  } else {
    printTables(reports, timer, tolerance);
  }
}

if (import.meta.main) await main();
