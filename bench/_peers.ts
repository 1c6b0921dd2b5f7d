// The contenders: how each one makes its heap and how it takes one churn step.

import { type Block, Pool } from "@mm/alloc";
import { MemPool } from "@thi.ng/malloc";
import asc from "assemblyscript/asc";
import { PlainTlsf } from "./_plain_tlsf.ts";
import { type ChurnSequence, preChurnSteps, SIZE_MAX, STEP_MASK } from "./_workload.ts";

/**
 * Results go here so that the JIT cannot drop the work that made them:
 * objects into `last`, numbers into `sum`.
 */
export const sink: { last: unknown; sum: number } = { last: null, sum: 0 };

// Room for every block at its largest, twice over: headers and fragmentation
// never run a pool out, so a failed allocation means a harness bug.
const HEADROOM = 2;
const SLACK_BYTES = 1 << 20;

/** Bytes of a pool that holds `live` blocks of up to SIZE_MAX bytes under churn. */
export function poolBytesFor(live: number): number {
  return live * SIZE_MAX * HEADROOM + SLACK_BYTES;
}

/** Our pool, sized for `live` blocks; in debug mode when `debug` is set. */
export function ourPool(live: number, debug = false): Pool {
  return new Pool(new ArrayBuffer(poolBytesFor(live)), { debug });
}

/** The @thi.ng/malloc peer, sized for `live` blocks. */
export function thingPool(live: number): MemPool {
  return new MemPool({ size: poolBytesFor(live), align: 8 });
}

/** AssemblyScript's TLSF runtime allocator, as seen from JavaScript. */
export interface WasmTlsf {
  alloc(size: number): number;
  free(ptr: number): void;
}

// The runtime's own `heap.alloc`/`heap.free`; `--runtime minimal` is its TLSF
// without the collector, and `--noAssert` drops the debug checks as a release build does.
const WASM_SOURCE = `
export function alloc(size: usize): usize { return heap.alloc(size); }
export function free(ptr: usize): void { heap.free(ptr); }
`;

let compiled: Promise<WebAssembly.Module> | undefined;

async function compileTlsf(): Promise<WebAssembly.Module> {
  const result = await asc.compileString({ "tlsf.ts": WASM_SOURCE }, {
    runtime: "minimal",
    optimizeLevel: 3,
    shrinkLevel: 0,
    noAssert: true,
  });
  if (result.error !== null || result.binary === null) {
    throw new Error(`AssemblyScript failed: ${result.error}\n${result.stderr.toString()}`);
  }
  return await WebAssembly.compile(result.binary as Uint8Array<ArrayBuffer>);
}

/**
 * A fresh AssemblyScript TLSF heap in its own memory, which grows on demand
 * (so it holds any live set the benches make). Compiled once per bench file.
 */
export async function wasmTlsf(): Promise<WasmTlsf> {
  compiled ??= compileTlsf();
  const instance = await WebAssembly.instantiate(await compiled, {
    env: {
      abort() {
        throw new Error("The AssemblyScript heap aborted (out of memory?).");
      },
    },
  });
  return instance.exports as unknown as WasmTlsf;
}

// ── churn ──────────────────────────────────────────────────────────────────
// Each contender builds its live set from `initialSizes`, replays the
// pre-timing steps, and hands back its step: free the block in `slots[k]`,
// allocate `sizes[k]` bytes in its place. The steps are written out per
// contender on purpose: one shared step would see every contender's heap at
// its call sites, and V8 would compile it for all of them at once.

/** A contender's heap with its live set in place, and its churn step. */
export interface Churn<H> {
  heap: H;
  step: () => void;
}

function outOfMemory(who: string): never {
  throw new Error(`${who} ran out of memory: the bench's pool is too small.`);
}

function ready<H>(seq: ChurnSequence, heap: H, step: () => void): Churn<H> {
  for (let i = preChurnSteps(seq.live); i > 0; i--) step();
  return { heap, step };
}

/** Ours, raw offsets: `alloc(size)` / `free(offset)`. */
export function oursRawChurn(seq: ChurnSequence, debug = false): Churn<Pool> {
  const { slots, sizes, initialSizes } = seq;
  const pool = ourPool(seq.live, debug);
  const live = new Uint32Array(seq.live);
  for (let i = 0; i < seq.live; i++) live[i] = pool.alloc(initialSizes[i]!);
  let k = 0;
  return ready(seq, pool, () => {
    const slot = slots[k]!;
    pool.free(live[slot]!);
    const offset = pool.alloc(sizes[k]!);
    if (offset === 0) outOfMemory("ours raw");
    live[slot] = offset;
    k = (k + 1) & STEP_MASK;
  });
}

/** Ours, handles: `allocate(size)` / `block.free()`, optionally writing through `block.f64`. */
export function oursHandleChurn(seq: ChurnSequence, touchF64: boolean): Churn<Pool> {
  const { slots, sizes, initialSizes } = seq;
  const pool = ourPool(seq.live);
  const live: Block[] = [];
  for (let i = 0; i < seq.live; i++) live.push(pool.allocate(initialSizes[i]!)!);
  let k = 0;
  return ready(seq, pool, () => {
    const slot = slots[k]!;
    live[slot]!.free();
    const block = pool.allocate(sizes[k]!) ?? outOfMemory("ours handle");
    // Sizes start at 8 bytes, so every block has an f64 element.
    if (touchF64) block.f64[0] = k;
    live[slot] = block;
    k = (k + 1) & STEP_MASK;
  });
}

/** @thi.ng/malloc: `malloc(size)` / `free(addr)`. */
export function thingChurn(seq: ChurnSequence): Churn<MemPool> {
  const { slots, sizes, initialSizes } = seq;
  const pool = thingPool(seq.live);
  const live = new Uint32Array(seq.live);
  for (let i = 0; i < seq.live; i++) live[i] = pool.malloc(initialSizes[i]!);
  let k = 0;
  return ready(seq, pool, () => {
    const slot = slots[k]!;
    // thi.ng reports an unknown address with `false`, not an error.
    if (!pool.free(live[slot]!)) throw new Error("@thi.ng/malloc lost a block.");
    const addr = pool.malloc(sizes[k]!);
    if (addr === 0) outOfMemory("@thi.ng/malloc");
    live[slot] = addr;
    k = (k + 1) & STEP_MASK;
  });
}

/** AssemblyScript's TLSF in WebAssembly (it aborts rather than return 0 when full). */
export async function wasmChurn(seq: ChurnSequence): Promise<Churn<WasmTlsf>> {
  const { slots, sizes, initialSizes } = seq;
  const heap = await wasmTlsf();
  const live = new Uint32Array(seq.live);
  for (let i = 0; i < seq.live; i++) live[i] = heap.alloc(initialSizes[i]!);
  let k = 0;
  return ready(seq, heap, () => {
    const slot = slots[k]!;
    heap.free(live[slot]!);
    live[slot] = heap.alloc(sizes[k]!);
    k = (k + 1) & STEP_MASK;
  });
}

/** The plain TypeScript TLSF (`_plain_tlsf.ts`): ours without checks, counters or validation. */
export function plainChurn(seq: ChurnSequence): Churn<PlainTlsf> {
  const { slots, sizes, initialSizes } = seq;
  const heap = new PlainTlsf(new ArrayBuffer(poolBytesFor(seq.live)));
  const live = new Uint32Array(seq.live);
  for (let i = 0; i < seq.live; i++) live[i] = heap.alloc(initialSizes[i]!);
  let k = 0;
  return ready(seq, heap, () => {
    const slot = slots[k]!;
    heap.free(live[slot]!);
    const offset = heap.alloc(sizes[k]!);
    if (offset === 0) outOfMemory("plain TLSF");
    live[slot] = offset;
    k = (k + 1) & STEP_MASK;
  });
}

/** The GC peer, bytes: "free" is dropping the reference by overwriting it. */
export function bytesChurn(seq: ChurnSequence): Churn<Uint8Array[]> {
  const { slots, sizes, initialSizes } = seq;
  const live: Uint8Array[] = [];
  for (let i = 0; i < seq.live; i++) live.push(new Uint8Array(initialSizes[i]!));
  let k = 0;
  return ready(seq, live, () => {
    live[slots[k]!] = new Uint8Array(sizes[k]!);
    k = (k + 1) & STEP_MASK;
  });
}

/** Whole float64s in `bytes` bytes, as `block.f64.length` counts them. */
function f64Length(bytes: number): number {
  return Math.floor(bytes / Float64Array.BYTES_PER_ELEMENT);
}

/** The GC peer, float64s, with the same write as `oursHandleChurn(seq, true)`. */
export function floatsChurn(seq: ChurnSequence): Churn<Float64Array[]> {
  const { slots, sizes, initialSizes } = seq;
  const live: Float64Array[] = [];
  for (let i = 0; i < seq.live; i++) {
    live.push(new Float64Array(f64Length(initialSizes[i]!)));
  }
  let k = 0;
  return ready(seq, live, () => {
    const array = new Float64Array(f64Length(sizes[k]!));
    array[0] = k;
    live[slots[k]!] = array;
    k = (k + 1) & STEP_MASK;
  });
}
