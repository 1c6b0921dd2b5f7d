import assert from "node:assert/strict";
import { fuzz, type FuzzFailure } from "../tools/_fuzz_engine.ts";
import { Pool } from "../mod.ts";

const SEEDS = [1, 2, 3];
const STEPS = 3000;
/** Share of steps that overwrite the pool's metadata or write past a payload. */
const CORRUPTION_RATE = 0.02;

function describe(failures: FuzzFailure[]): string {
  return failures.slice(0, 5).map((f) =>
    `${f.kind} at step ${f.step} (seed ${f.seed}): ${f.op}: ${f.message}${
      f.firstIllegal ? ` [after ${f.firstIllegal}]` : ""
    }`
  ).join("\n");
}

Deno.test("the misuse fuzzer finds no failure in pools that only see legal writes", async (t) => {
  for (const seed of SEEDS) {
    await t.step(`seed ${seed}`, () => {
      // Timing is no verdict here: slow steps on a busy machine are not hangs.
      const report = fuzz({ seed, steps: STEPS, slowOpMs: Infinity });
      assert.deepEqual(report.failures, [], describe(report.failures));
      assert.equal(report.steps, STEPS);
      assert.deepEqual(report.illegalWrites, {});
      // The run did misuse the pools, and the pools noticed.
      assert.ok(report.poolErrors["double-free"]! > 0);
      assert.ok(report.poolErrors["invalid-offset"]! > 0);
      assert.ok(report.argumentErrors["TypeError"]! > 0);
      assert.ok(report.argumentErrors["RangeError"]! > 0);
    });
  }
});

Deno.test("the misuse fuzzer finds no failure when the pools' metadata is overwritten", async (t) => {
  for (const seed of SEEDS) {
    await t.step(`seed ${seed}`, () => {
      const report = fuzz({
        seed,
        steps: STEPS,
        corruptionRate: CORRUPTION_RATE,
        slowOpMs: Infinity,
      });
      assert.deepEqual(report.failures, [], describe(report.failures));
      assert.ok(Object.keys(report.illegalWrites).length > 0);
    });
  }
});

Deno.test("the same seed gives the same run", () => {
  const once = fuzz({ seed: 7, steps: 500, corruptionRate: CORRUPTION_RATE, slowOpMs: Infinity });
  const again = fuzz({ seed: 7, steps: 500, corruptionRate: CORRUPTION_RATE, slowOpMs: Infinity });
  assert.deepEqual({ ...again, elapsedMs: 0 }, { ...once, elapsedMs: 0 });
});

// A pool that hands out the block it handed out last once more.
class RepeatingPool extends Pool {
  #last = 0;
  override alloc(size: number, align?: number): number {
    if (this.#last !== 0) return this.#last;
    this.#last = align === undefined ? super.alloc(size) : super.alloc(size, align);
    return this.#last;
  }
}

// A pool whose free() throws the wrong kind of error.
class ThrowingPool extends Pool {
  override free(): void {
    throw new Error("lost");
  }
}

Deno.test("the misuse fuzzer catches an allocator that misbehaves", async (t) => {
  await t.step("two live blocks at one offset are an overlap", () => {
    const report = fuzz({
      seed: 1,
      steps: STEPS,
      slowOpMs: Infinity,
      createPool: (buffer, byteOffset, byteLength) =>
        new RepeatingPool(buffer, { byteOffset, byteLength }),
    });
    assert.ok(report.failures.some((f) => f.kind === "overlap"), describe(report.failures));
  });

  await t.step("an Error from free() is an exception", () => {
    const report = fuzz({
      seed: 1,
      steps: STEPS,
      slowOpMs: Infinity,
      createPool: (buffer, byteOffset, byteLength) =>
        new ThrowingPool(buffer, { byteOffset, byteLength }),
    });
    const failure = report.failures.find((f) => f.kind === "exception");
    assert.ok(failure, describe(report.failures));
    assert.match(failure.message, /^Error: lost$/);
    assert.match(failure.op, /^free\(/);
  });
});

Deno.test("the fuzz command takes its options after the `--` that deno task passes on", async () => {
  const script = new URL("../tools/fuzz.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", script.href, "--", "--steps", "50", "--seed", "4"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(out, /seed 4, 50 steps/);
  assert.match(out, /failures: 0 /);
});
