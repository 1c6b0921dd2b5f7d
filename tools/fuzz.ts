// The misuse fuzzer: random operations, misuse and illegal writes against
// fresh pools for a while, run in a worker that a watchdog gives up on if a
// step never finishes. Run `deno task fuzz -- --help`.

import { cliArgs, parseCli, runCli, UsageError } from "./_cli_args.ts";
import { Progress } from "./_progress.ts";
import {
  fuzz,
  type FuzzFailure,
  type FuzzOptions,
  type FuzzReport,
  ILLEGAL_WRITE_KINDS,
  OP_KINDS,
  PROGRESS_CELLS,
  ProgressCell,
  SLOW_OP_MS,
} from "./_fuzz_engine.ts";

const DEFAULT_SECONDS = 20;
const DEFAULT_CORRUPTION_RATE = 0.01;
/** A step still running after this many ms is a hang, even if it never returns. */
const DEFAULT_STALL_MS = 5000;
/** How often the watchdog looks (and updates the progress line), in ms. */
const POLL_MS = 100;
const MS_PER_S = 1000;
/** Failures printed in full per kind of failure. */
const EXAMPLES_PER_GROUP = 1;
/** Steps logged before a failure in its reproduction command. */
const LOG_BEFORE = 20;

const USAGE = `Usage: deno task fuzz -- [options]

Runs random allocations, frees, resizes, reallocs and queries (drawn from the
shared generator and judged by the shared model, as in the tests and the
soak), misuse (bad arguments, freed and foreign blocks, bad raw offsets) and
writes into the pool's buffer against fresh pools: writes inside payloads
(legal) and, at the corruption rate, over metadata or past payloads
(illegal). Fails on an exception other than PoolError, a hang, overlapping
or out-of-range payloads, damage outside the pool's range, and, while no
illegal write has happened, on check() failing or the model disagreeing. Prints the seed first; a failure reproduces from it.

Options:
  --seconds N          run this long (default ${DEFAULT_SECONDS}, unless --steps is given)
  --steps N            run this many steps
  --seed N             seed, 0 to 2^32 - 1 (default: random)
  --corruption-rate P  share of steps that are illegal writes (default ${DEFAULT_CORRUPTION_RATE}; 0 for none)
  --slow-op-ms N       an operation slower than this is a hang (default ${SLOW_OP_MS})
  --stall-ms N         give up on a step still running after this long (default ${DEFAULT_STALL_MS})
  --log-from N         describe every operation from step N on, to stderr
  --max-failures N     stop after this many failures (default 50)
  --json               print the report as JSON
  -h, --help           show this text`;
const HINT = "Usage: deno task fuzz -- [options]; -h for the options.";

/** What the main thread sends the worker. */
interface Job {
  options: Omit<FuzzOptions, "log" | "createPool" | "progress" | "onFailure">;
  progress: Int32Array;
}

/** What the worker sends back: each failure as it is found, then the report. */
type Message = { failure: FuzzFailure } | { report: FuzzReport };

/** The part of a worker's global scope used here (the main thread's types lack it). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<Job>) => void) | null;
  postMessage(message: unknown): void;
}

if ("WorkerGlobalScope" in globalThis) {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = ({ data }) => {
    const log = (line: string) => console.error(line);
    const onFailure = (failure: FuzzFailure) => scope.postMessage({ failure } satisfies Message);
    const report = fuzz({ ...data.options, progress: data.progress, log, onFailure });
    scope.postMessage({ report } satisfies Message);
  };
} else if (import.meta.main) {
  // Exiting ends a worker stuck in a hang, too.
  await runCli(main, HINT);
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(
      `--${name} takes a number of at least 0, but got ${JSON.stringify(value)}.`,
    );
  }
  return n;
}

async function main(): Promise<number> {
  const { values } = parseCli({
    args: cliArgs(),
    options: {
      seconds: { type: "string" },
      steps: { type: "string" },
      seed: { type: "string" },
      "corruption-rate": { type: "string" },
      "slow-op-ms": { type: "string" },
      "stall-ms": { type: "string" },
      "log-from": { type: "string" },
      "max-failures": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const steps = number(values.steps, "steps");
  const seconds = number(values.seconds, "seconds") ??
    (steps === undefined ? DEFAULT_SECONDS : undefined);
  const seed = number(values.seed, "seed") ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  if (!Number.isInteger(seed) || seed >= 2 ** 32) {
    throw new UsageError(`--seed takes a whole number below 2^32, but got ${seed}.`);
  }
  const corruptionRate = number(values["corruption-rate"], "corruption-rate") ??
    DEFAULT_CORRUPTION_RATE;
  const stallMs = number(values["stall-ms"], "stall-ms") ?? DEFAULT_STALL_MS;
  // The seed comes first, so that even a run that never ends can be repeated.
  (values.json ? console.error : console.log)(`seed ${seed}`);

  const options: Job["options"] = { seed, corruptionRate };
  if (steps !== undefined) options.steps = steps;
  if (seconds !== undefined) options.seconds = seconds;
  const slowOpMs = number(values["slow-op-ms"], "slow-op-ms");
  if (slowOpMs !== undefined) options.slowOpMs = slowOpMs;
  const logFrom = number(values["log-from"], "log-from");
  if (logFrom !== undefined) options.logFrom = logFrom;
  const maxFailures = number(values["max-failures"], "max-failures");
  if (maxFailures !== undefined) options.maxFailures = maxFailures;

  const report = await runWatched(options, stallMs);
  console.log(values.json ? JSON.stringify(report, null, 2) : summary(report));
  return report.failures.length > 0 ? 1 : 0;
}

/**
 * Runs the fuzzer in a worker. When a step stalls, resolves with a report
 * of the failures so far and the hang; the worker, stuck in a loop that
 * cannot be stopped from outside, ends with the process.
 */
function runWatched(options: Job["options"], stallMs: number): Promise<FuzzReport> {
  const progress = new Int32Array(
    new SharedArrayBuffer(PROGRESS_CELLS * Int32Array.BYTES_PER_ELEMENT),
  );
  const worker = new Worker(import.meta.url, { type: "module" });
  const began = performance.now();
  const status = new Progress();
  let step = -1;
  let since = began;
  const failures: FuzzFailure[] = [];
  return new Promise((resolve, reject) => {
    const watchdog = setInterval(() => {
      const now = performance.now();
      const current = Atomics.load(progress, ProgressCell.Step);
      if (current !== step) {
        step = current;
        since = now;
      } else if (now - since > stallMs) {
        clearInterval(watchdog);
        status.clear();
        const report = hangReport(options, progress, now - began, stallMs);
        report.failures.unshift(...failures);
        resolve(report);
      }
      status.show(`fuzz: step ${current}, ${((now - began) / MS_PER_S).toFixed(0)} s`);
    }, POLL_MS);
    worker.onmessage = ({ data }: MessageEvent<Message>) => {
      if ("failure" in data) {
        failures.push(data.failure);
        return;
      }
      clearInterval(watchdog);
      worker.terminate();
      status.clear();
      resolve(data.report);
    };
    worker.onerror = (event) => {
      clearInterval(watchdog);
      worker.terminate();
      status.clear();
      event.preventDefault();
      reject(new Error(`the fuzzer's worker failed: ${event.message}`));
    };
    worker.postMessage({ options, progress } satisfies Job);
  });
}

/** The report of a run whose worker is stuck: just the hang, from the shared cells. */
function hangReport(
  options: Job["options"],
  progress: Int32Array,
  elapsedMs: number,
  stallMs: number,
): FuzzReport {
  const step = Atomics.load(progress, ProgressCell.Step);
  const illegalStep = progress[ProgressCell.IllegalStep]!;
  const illegalKind = ILLEGAL_WRITE_KINDS[progress[ProgressCell.IllegalKind]!] ?? "accepted misuse";
  const failure: FuzzFailure = {
    kind: "hang",
    seed: options.seed,
    step,
    op: OP_KINDS[progress[ProgressCell.Op]!] ?? "?",
    message: `the step did not finish within ${stallMs} ms`,
    stack: "",
    sound: progress[ProgressCell.Sound] === 1,
    firstIllegal: illegalStep >= 0 ? `step ${illegalStep}: ${illegalKind}` : "",
    lastIllegal: "",
    pool: `${progress[ProgressCell.PoolBytes]}-byte pool`,
  };
  return {
    seed: options.seed,
    steps: step,
    elapsedMs,
    corruptionRate: options.corruptionRate ?? 0,
    pools: 0,
    ops: {},
    poolErrors: {},
    argumentErrors: {},
    illegalWrites: {},
    failures: [failure],
  };
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]);
  return entries.length === 0 ? "none" : entries.map(([k, n]) => `${k} ${n}`).join(", ");
}

/** Failures that differ only in numbers are the same failure. */
function signature(f: FuzzFailure): string {
  const op = f.op.replace(/^illegal write \(([^)]*)\).*/, "illegal write ($1)").replace(
    /[ (].*/,
    "",
  );
  const firstIllegal = f.firstIllegal.replace(/^step \d+: ([^:]*).*/, "$1");
  return [f.kind, op, f.message.replace(/-?\d+(\.\d+)?/g, "N"), firstIllegal].join(" | ");
}

function summary(r: FuzzReport): string {
  const seconds = r.elapsedMs / MS_PER_S;
  const lines = [
    `fuzz: seed ${r.seed}, ${r.steps} steps in ${seconds.toFixed(1)} s (${
      Math.round(r.steps / seconds)
    } steps/s), ${r.pools} pools, corruption rate ${r.corruptionRate}`,
  ];
  if (r.pools === 0) {
    lines.push("counts: lost with the stuck worker");
  } else {
    lines.push(
      `ops: ${counts(r.ops)}`,
      `PoolErrors: ${counts(r.poolErrors)}`,
      `argument errors: ${counts(r.argumentErrors)}`,
      `illegal writes: ${counts(r.illegalWrites)}`,
      // Only failures are findings: these errors are the answers the fuzzer provokes.
      "  (expected answers, not failures: corrupt to the illegal writes the fuzzer injects,",
      "  the other codes and the argument errors to its deliberate misuse)",
    );
  }
  const groups = new Map<string, FuzzFailure[]>();
  for (const f of r.failures) groups.set(signature(f), [...groups.get(signature(f)) ?? [], f]);
  lines.push(`failures: ${r.failures.length} (${groups.size} distinct)`);
  for (const group of groups.values()) {
    for (const f of group.slice(0, EXAMPLES_PER_GROUP)) {
      // Stopping at this failure's place in the list keeps the reproduction to the step.
      const failuresUpTo = r.failures.indexOf(f) + 1;
      lines.push(
        `  ${f.kind} ×${group.length}, first at step ${f.step}: ${f.op}`,
        `    ${f.message}`,
      );
      if (f.stack) lines.push(`    at ${f.stack}`);
      lines.push(
        `    pool: ${f.pool}, ${
          f.sound ? "sound (no illegal write before)" : `possibly corrupt since ${f.firstIllegal}`
        }`,
      );
      if (f.lastIllegal && f.lastIllegal !== f.firstIllegal) {
        lines.push(`    last illegal: ${f.lastIllegal}`);
      }
      lines.push(
        `    reproduce: deno task fuzz -- --seed ${f.seed} --corruption-rate ${r.corruptionRate} --steps ${
          f.step + 1
        } --max-failures ${failuresUpTo} --log-from ${Math.max(0, f.step - LOG_BEFORE)}`,
      );
    }
  }
  return lines.join("\n");
}
