/**
 * Runs `program.wasm`, a C program whose malloc, free, calloc, realloc,
 * aligned_alloc and posix_memalign are served by a pool over the module's
 * own memory, from its `__heap_base` to the memory's end, growing the
 * memory as the program needs. Then shows the program's heap as the pool
 * sees it: its stats, a heap map, and, in debug mode, what it leaked.
 *
 * Run it with `deno run --allow-read examples/c_malloc/host.ts [--debug]`.
 *
 * @module
 */

import { heapMap, Pool, wasmAllocatorImports } from "../../mod.ts";
import { makeWasi, ProcExit } from "./wasi.ts";

/** What a run of the program left. */
export interface Run {
  /** The program's exit status. */
  status: number;
  /** What it printed. */
  stdout: string;
  /** What it printed on stderr. */
  stderr: string;
  /** The pool its heap lives in. */
  pool: Pool;
  /** Its memory. */
  memory: WebAssembly.Memory;
  /** Where its heap starts: the pool's range starts there. */
  heapBase: number;
}

/** Runs the C program (`program.wasm` unless `wasm` is given) on a pool, in debug mode if asked. */
export async function runProgram(
  options: { debug?: boolean; wasm?: Uint8Array<ArrayBuffer> } = {},
): Promise<Run> {
  const wasm = options.wasm ?? await Deno.readFile(new URL("program.wasm", import.meta.url));
  let pool: Pool | undefined = undefined;
  let memory: WebAssembly.Memory | undefined = undefined;
  const wasi = makeWasi(() => memory!);
  // The imports are made before the module exists; the pool, once its memory does.
  const { instance } = await WebAssembly.instantiate(wasm, {
    ...wasmAllocatorImports(() => pool!),
    ...wasi.imports,
  });
  const exports = instance.exports as {
    memory: WebAssembly.Memory;
    __heap_base: WebAssembly.Global;
    _start: () => void;
  };
  memory = exports.memory;
  const heapBase = exports.__heap_base.value as number;
  pool = new Pool(memory, { byteOffset: heapBase, debug: options.debug ?? false });
  let status = 0;
  try {
    exports._start();
  } catch (error) {
    if (!(error instanceof ProcExit)) throw error;
    status = error.code;
  }
  return { status, stdout: wasi.stdout(), stderr: wasi.stderr(), pool, memory, heapBase };
}

if (import.meta.main) {
  const run = await runProgram({ debug: Deno.args.includes("--debug") });
  console.log(run.stdout.trimEnd());
  if (run.stderr !== "") console.error(run.stderr.trimEnd());
  const stats = run.pool.stats();
  console.log(`exit status ${run.status}`);
  console.log(
    `heap from ${run.heapBase} in a ${run.memory.buffer.byteLength}-byte memory: ${stats.capacity} bytes, ` +
      `${stats.bytesUsed} used (peak ${stats.peakBytesUsed}), ${stats.allocations} allocations, ${stats.frees} frees`,
  );
  console.log(heapMap(run.pool));
  if (Deno.args.includes("--debug")) {
    for (const leak of run.pool.leaks()) {
      console.log(
        `leaked ${leak.size} bytes at ${leak.offset}, allocated\n  ${
          leak.stack.replaceAll("\n", "\n  ")
        }`,
      );
    }
  }
}
