/**
 * The simplest interface: one module-wide pool and plain functions over it.
 *
 * @module
 */

import type { Block } from "./block.ts";
import { PoolError } from "../common/errors.ts";
import { type AllocateOptions, Pool } from "./pool.ts";

let current: Pool | undefined;

function pool(op: string): Pool {
  if (current === undefined) {
    throw new PoolError("no-pool", `Call initPool(buffer) before ${op}().`);
  }
  return current;
}

/**
 * Formats `buffer` (its first `byteLength` bytes, or all of it) as the
 * module's default pool, which the other module-level functions use. A
 * second call replaces the default pool.
 *
 * @param buffer The memory to manage.
 * @param byteLength How many bytes from its start to manage; default all.
 * @returns The new default pool, for everything the plain functions do not cover.
 * @throws {TypeError} If `buffer` is not an `ArrayBuffer` or `SharedArrayBuffer`.
 * @throws {RangeError} If the range is too small for a pool or outside the buffer.
 *
 * @example The whole life of a block
 * ```ts
 * import { allocate, bytesFree, bytesUsed, deallocate, initPool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * initPool(new ArrayBuffer(4096));
 * const free = bytesFree();
 * const block = allocate(32)!;
 * assert.equal(bytesFree(), free - bytesUsed());
 * deallocate(block);
 * assert.equal(bytesFree(), free);
 * ```
 */
export function initPool(buffer: ArrayBuffer | SharedArrayBuffer, byteLength?: number): Pool {
  current = new Pool(buffer, byteLength === undefined ? {} : { byteLength });
  return current;
}

/**
 * Allocates from the default pool; see {@linkcode Pool.allocate}.
 *
 * @param size Payload bytes.
 * @param options Alignment and zero-filling.
 * @returns The block, or `null` when no free block can hold `size` bytes.
 * @throws {PoolError} `no-pool` before `initPool`.
 *
 * @example
 * ```ts
 * import { allocate, initPool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * initPool(new ArrayBuffer(4096));
 * assert.equal(allocate(64)!.length, 64);
 * ```
 */
export function allocate(size: number, options?: AllocateOptions): Block | null {
  return pool("allocate").allocate(size, options);
}

/**
 * Frees a block of the default pool; see {@linkcode Pool.deallocate}.
 *
 * @param block A block from `allocate`.
 * @throws {PoolError} `no-pool` before `initPool`, and as `Pool.deallocate` does.
 *
 * @example
 * ```ts
 * import { allocate, bytesUsed, deallocate, initPool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * initPool(new ArrayBuffer(4096));
 * deallocate(allocate(64)!);
 * assert.equal(bytesUsed(), 0);
 * ```
 */
export function deallocate(block: Block): void {
  pool("deallocate").deallocate(block);
}

/**
 * Bytes held by the default pool's live blocks; see {@linkcode Pool.bytesUsed}.
 *
 * @returns The bytes in use.
 * @throws {PoolError} `no-pool` before `initPool`.
 *
 * @example
 * ```ts
 * import { bytesUsed, initPool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * initPool(new ArrayBuffer(4096));
 * assert.equal(bytesUsed(), 0);
 * ```
 */
export function bytesUsed(): number {
  return pool("bytesUsed").bytesUsed();
}

/**
 * Bytes in the default pool's free blocks; see {@linkcode Pool.bytesFree}.
 *
 * @returns The free bytes.
 * @throws {PoolError} `no-pool` before `initPool`.
 *
 * @example
 * ```ts
 * import { bytesFree, initPool } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * initPool(new ArrayBuffer(4096));
 * assert.ok(bytesFree() > 3000);
 * ```
 */
export function bytesFree(): number {
  return pool("bytesFree").bytesFree();
}

/**
 * The largest size the default pool can allocate now; see
 * {@linkcode Pool.largestFreeBlock}.
 *
 * @returns Payload bytes of the largest free block.
 * @throws {PoolError} `no-pool` before `initPool`.
 *
 * @example
 * ```ts
 * import { allocate, initPool, largestFreeBlock } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * initPool(new ArrayBuffer(4096));
 * assert.notEqual(allocate(largestFreeBlock()), null);
 * ```
 */
export function largestFreeBlock(): number {
  return pool("largestFreeBlock").largestFreeBlock();
}
