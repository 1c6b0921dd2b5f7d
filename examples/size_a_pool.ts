/**
 * How big must a pool be for a program? Record what the program asks of a
 * generous pool, then let the trace answer: the smallest pool that replays
 * it, and why it is bigger than the bytes the program ever held at once.
 *
 * Run it with `deno run examples/size_a_pool.ts`.
 *
 * @module
 */

import { Pool } from "../mod.ts";

import { analyzeTrace, parseTrace, recordTrace, replayTrace } from "../trace.ts";

/** Frames the simulation runs. */
const FRAMES = 600;
/** The most particles alive at once. */
const MAX_PARTICLES = 400;
/** Float64s per particle: position, velocity, colour and age. */
const FIELDS = 8;
/** A generous pool for the recording run: the trace, not this size, says what is needed. */
const RECORDING_POOL_BYTES = 1 << 20;

/** Marsaglia's xorshift32, so every run makes the same trace. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * A particle system of the kind a game runs every frame: particles are born
 * with a block of float64s each and die after a while, and every few frames
 * a burst needs a scratch buffer for a moment.
 */
function simulate(pool: Pool): void {
  const next = random(42);
  const live: { offset: number; dies: number }[] = [];
  for (let frame = 0; frame < FRAMES; frame++) {
    for (let i = live.length - 1; i >= 0; i--) {
      if (live[i]!.dies <= frame) {
        pool.free(live[i]!.offset);
        live.splice(i, 1);
      }
    }
    const births = Math.floor(next() * 12);
    for (let i = 0; i < births && live.length < MAX_PARTICLES; i++) {
      const offset = pool.alloc(FIELDS * Float64Array.BYTES_PER_ELEMENT);
      live.push({ offset, dies: frame + 20 + Math.floor(next() * 100) });
    }
    if (frame % 30 === 0) pool.free(pool.alloc(4096 + Math.floor(next() * 8192)));
  }
  for (const { offset } of live) pool.free(offset);
}

const recording = Pool.create(RECORDING_POOL_BYTES);
const recorder = recordTrace(recording, { description: "particles" });
simulate(recording);
await recorder.stop();

const trace = await parseTrace(recorder.toString(), { name: "particles" });
const analysis = analyzeTrace(trace, { timing: false });
console.log(`${analysis.operations} operations, at most ${analysis.peakLiveBytes} bytes live`);
console.log(`smallest pool that replays them: ${analysis.poolSize} bytes`);
console.log(
  `memory factor ${analysis.memoryFactor.toFixed(3)} = overhead ${
    analysis.overhead.toFixed(3)
  } (headers and rounding) × (1 + ${
    (analysis.externalFragmentation * 100).toFixed(2)
  }% external fragmentation and metadata)`,
);

// The answer holds: the same program runs in a pool of exactly that size.
const sized = replayTrace(trace, new Pool(new ArrayBuffer(analysis.poolSize)));
console.log(`replayed in ${analysis.poolSize} bytes: ${sized.failedAt < 0 ? "fits" : "fails"}`);
