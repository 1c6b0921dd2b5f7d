/**
 * The allocator's own error class.
 *
 * @module
 */

/**
 * What went wrong, as a stable string to branch on:
 *
 * - `double-free`: the block was freed already.
 * - `foreign-block`: the block belongs to another pool.
 * - `use-after-free`: a freed block's views were touched.
 * - `invalid-offset`: a raw offset is not the payload of a live block, or is
 *   the payload of a `Block`, which only the `Block` frees and resizes.
 * - `corrupt`: the pool's own bookkeeping does not add up (see `Pool.check`).
 * - `no-pool`: a module-level function was called before `initPool`.
 * - `detached`: the pool's buffer was detached (transferred), or a
 *   `WebAssembly.Memory`'s old buffer was given rather than the memory.
 * - `resized`: the pool's resizable buffer was shrunk below the pool's end
 *   (and perhaps grown back, which zeroes the bytes it had lost).
 * - `overflow`: in debug mode, a block was written past its end.
 * - `write-after-free`: in debug mode, a freed block was written before it was reused.
 * - `no-debug`: `Pool.leaks()` was called on a pool made without `{ debug: true }`.
 * - `out-of-memory`: `Pool.allocateOrThrow` or `Pool.allocOrThrow` found no free
 *   block big enough; the message gives the size asked for, the bytes free and
 *   the largest free block.
 */
export type PoolErrorCode =
  | "double-free"
  | "foreign-block"
  | "use-after-free"
  | "invalid-offset"
  | "corrupt"
  | "no-pool"
  | "detached"
  | "resized"
  | "overflow"
  | "write-after-free"
  | "no-debug"
  | "out-of-memory";

/**
 * Thrown for misuse of a pool or its blocks, and for a pool whose
 * bookkeeping is damaged. Arguments of the wrong type or range throw the
 * built-in `TypeError` and `RangeError` instead.
 *
 * @example Telling a double free apart from other errors
 * ```ts
 * import { Pool, PoolError } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(1024);
 * const block = pool.allocate(16)!;
 * block.free();
 * assert.throws(() => block.free(), (e) => e instanceof PoolError && e.code === "double-free");
 * ```
 */
export class PoolError extends Error {
  /** Which misuse or damage this is. */
  readonly code: PoolErrorCode;

  /**
   * Makes an error with a code and a message that says what happened.
   *
   * @param code Which misuse or damage this is.
   * @param message A whole sentence for people.
   */
  constructor(code: PoolErrorCode, message: string) {
    super(message);
    this.name = "PoolError";
    this.code = code;
  }
}

/** Throws `PoolError("corrupt")` saying what was found damaged. */
export function corrupt(damage: string): never {
  throw new PoolError("corrupt", `The pool is corrupt: ${damage}.`);
}

/**
 * The error for a pool whose views no longer reach its bytes: `detached` if
 * `buffer` was detached, `resized` if it is shorter than `end`, the pool's
 * end in it; `resized` too if it is long enough, since its bytes then came
 * back zeroed after a shrink.
 */
export function bufferLost(buffer: ArrayBufferLike, end: number): PoolError {
  if ((buffer as { detached?: boolean }).detached === true) {
    return new PoolError(
      "detached",
      "The pool's buffer was detached (transferred, or the old buffer of a WebAssembly.Memory that grew); make a pool over the memory itself to follow its growth.",
    );
  }
  const length = buffer.byteLength;
  return new PoolError(
    "resized",
    length < end
      ? `The pool's buffer was shrunk to ${length} bytes, below the pool's end at ${end}: the blocks past it are lost.`
      : `The pool's buffer was shrunk below the pool's end at ${end} and grown back: the bytes it lost came back zeroed, and the pool cannot be used.`,
  );
}
