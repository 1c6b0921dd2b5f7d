/**
 * `malloc` and friends for a WebAssembly module, served by a pool over the
 * module's own memory.
 *
 * @module
 */

import type { Pool } from "./pool.ts";

/**
 * What a module's allocator shim imports from the import module `mm_alloc`:
 * C's allocation functions, pointers as i32. A type rather than an
 * interface, so that it is a WebAssembly `ModuleImports`.
 *
 * @example
 * ```ts
 * import { Pool, type WasmAllocatorFunctions, wasmAllocatorImports } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = new Pool(new WebAssembly.Memory({ initial: 1 }));
 * const c: WasmAllocatorFunctions = wasmAllocatorImports(pool).mm_alloc;
 * assert.equal(c.aligned_alloc(3, 8), 0); // not a power of two
 * assert.equal(c.aligned_alloc(64, 8) % 64, 0);
 * ```
 */
export type WasmAllocatorFunctions = {
  /** `void *malloc(size_t size)`: 0 when there is no room. */
  malloc(size: number): number;
  /** `void free(void *ptr)`: nothing for 0. */
  free(ptr: number): void;
  /** `void *calloc(size_t count, size_t size)`: zeroed; 0 when there is no room or the product overflows. */
  calloc(count: number, size: number): number;
  /** `void *realloc(void *ptr, size_t size)`: `malloc` for 0; 0 (and the block kept) when there is no room. */
  realloc(ptr: number, size: number): number;
  /** `void *aligned_alloc(size_t align, size_t size)`: 0 for an alignment that is not a power of two. */
  aligned_alloc(align: number, size: number): number;
};

/**
 * The imports a WebAssembly module needs whose `malloc`, `free`, `calloc`,
 * `realloc`, `aligned_alloc` (and `posix_memalign`, through it) call out to
 * JavaScript: each is served by `pool`, made over the module's memory, so
 * that the module's heap is a pool like any other (its `stats()`,
 * `heapMap`, and in debug mode `leaks()`). Pointers are the pool's raw
 * offsets. Misuse that C would leave undefined, such as freeing a pointer
 * twice, throws the pool's error out of the module's call.
 *
 * `examples/c_malloc/` has a C shim that imports these, and a C program
 * built with clang for `wasm32-wasi` that runs on them.
 *
 * @param pool The pool, or a function that returns it when first needed:
 * a module that exports its memory is instantiated with these imports
 * before the pool over that memory can be made.
 * @returns `{ mm_alloc: { malloc, free, calloc, realloc, aligned_alloc } }`,
 * to spread into the module's import object.
 *
 * @example The functions a C module would call
 * ```ts
 * import { Pool, wasmAllocatorImports } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const pool = new Pool(memory, { byteOffset: 1024 });
 * const { malloc, calloc, realloc, free } = wasmAllocatorImports(pool).mm_alloc;
 * const ptr = calloc(10, 8);
 * assert.ok(new Uint8Array(memory.buffer, ptr, 80).every((byte) => byte === 0));
 * const grown = realloc(ptr, 1 << 20); // more than the memory had: it grows
 * assert.ok(memory.buffer.byteLength > 1 << 20);
 * free(grown);
 * free(malloc(0));
 * assert.equal(pool.bytesUsed(), 0);
 * ```
 */
export function wasmAllocatorImports(
  pool: Pool | (() => Pool),
): { mm_alloc: WasmAllocatorFunctions } {
  let known: Pool | undefined = typeof pool === "function" ? undefined : pool;
  const get = (): Pool => known ??= (pool as () => Pool)();
  let bytes: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  const malloc = (size: number): number => get().alloc(size >>> 0);
  return {
    mm_alloc: {
      malloc,
      free(ptr: number): void {
        if (ptr !== 0) get().free(ptr >>> 0);
      },
      calloc(count: number, size: number): number {
        const total = (count >>> 0) * (size >>> 0);
        if (total > 0xffffffff) return 0;
        const pool = get();
        const ptr = pool.alloc(total);
        if (ptr === 0) return 0;
        const buffer = pool.buffer;
        if (bytes.buffer !== buffer) bytes = new Uint8Array(buffer);
        bytes.fill(0, ptr, ptr + total);
        return ptr;
      },
      realloc(ptr: number, size: number): number {
        return ptr === 0 ? malloc(size) : get().realloc(ptr >>> 0, size >>> 0);
      },
      aligned_alloc(align: number, size: number): number {
        const a = align >>> 0;
        if (a === 0 || (a & (a - 1)) !== 0) return 0;
        return get().alloc(size >>> 0, a);
      },
    },
  };
}
