/**
 * Recording what a pool is asked to do as an allocation trace (the format
 * `parseTrace` reads), to replay or size it later.
 *
 * @module
 */

import type { Block } from "../api/block.ts";
import { pushLayer } from "../api/layer.ts";
import type { AllocateOptions, Pool } from "../api/pool.ts";
import { Size } from "../engine/tlsf.ts";
import { checkOptions, describe } from "../common/validate.ts";

/**
 * How `recordTrace` records.
 *
 * @example A description for the trace's first line
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import { recordTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(4096);
 * const recorder = recordTrace(pool, { description: "level 1 loading" });
 * await recorder.stop();
 * assert.equal(recorder.toString(), "# level 1 loading\n");
 * ```
 */
export interface RecordTraceOptions {
  /** The text of the trace's first line, a comment. Default: the pool's size. */
  description?: string;
  /**
   * Where to send the trace's text as it is made, in chunks of many lines.
   * The recorder holds its writer until `stop()`, which closes it.
   */
  stream?: WritableStream<string>;
  /**
   * As `stream`, for a stream that takes bytes, such as a file's `writable`
   * (`Deno.FsFile`) or Node's `Writable.toWeb(...)`: the recorder encodes
   * each chunk as UTF-8. Give `stream` or `byteStream`, not both.
   */
  byteStream?: WritableStream<Uint8Array>;
}

/** A recording in progress, from `recordTrace`. */
export interface TraceRecorder {
  /** Whether the pool is still being recorded. */
  readonly recording: boolean;
  /**
   * Stops recording: the pool's prototype is what it was before. Resolves
   * once the stream, if any, has every line and is closed; rejects if
   * writing to it failed. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
  /** The trace so far, as text. */
  toString(): string;
}

/** Characters gathered before they go to the stream as one chunk. */
const CHUNK_CHARS = 1 << 16;

const recorded = new WeakSet<Pool>();

/** The pool methods a recorder stands in for. */
const RECORDED = ["allocate", "deallocate", "resize", "alloc", "free", "realloc"] as const;
type Recorded = Pick<Pool, typeof RECORDED[number]>;

/** The alignment a raw `align` argument gives a block: 8 when left out or smaller. */
function effectiveAlign(align: number | undefined): number {
  return align === undefined || align < Size.Align ? Size.Align : align;
}

/**
 * Records every `allocate`, `deallocate` (and `Block.free`), `resize`,
 * `alloc`, `free` and `realloc` made through `pool`, as an allocation trace: one line
 * per operation, ids reused after a free as the format wants. A raw
 * `realloc` given another alignment than the block had writes it on its `r` line.
 *
 * Recording costs nothing when it is off: it puts its wrappers on an object
 * of their own, which it inserts as the pool's prototype in front of the one
 * the pool had (the class's, or debug mode's wrappers), and `stop()` puts
 * that prototype back, so the pool is the same shape as before and other
 * pools are never touched. Calls that throw are not recorded. Requests that
 * find no room, and operations on blocks allocated before recording began,
 * become `#` comments, so the trace stays one that replays.
 *
 * @param pool The pool to record; start on a fresh pool for a trace that replays the same.
 * @param options The first line's text, and a stream of text or of bytes to write to as it goes.
 * @returns The recorder: its text so far, and `stop()`.
 * @throws {Error} If the pool is being recorded already.
 * @throws {TypeError} If `options` gives both `stream` and `byteStream`, a stream that is
 * not a `WritableStream` or a description that is not a string, or the
 * pool has methods of its own that would hide the recorder's.
 *
 * @example Recording, then replaying into a fresh pool
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import { parseTrace, recordTrace, replayTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(4096);
 * const recorder = recordTrace(pool, { description: "demo" });
 * const block = pool.allocate(100)!;
 * pool.resize(block, 200);
 * pool.free(pool.realloc(pool.alloc(24, 64), 40));
 * block.free();
 * await recorder.stop();
 * assert.equal(
 *   recorder.toString(),
 *   "# demo\na 0 100\nr 0 0 200\na 1 24 64\nr 1 1 40 8\nf 1\nf 0\n",
 * );
 *
 * const copy = Pool.create(4096);
 * replayTrace(await parseTrace(recorder.toString()), copy);
 * assert.deepEqual(copy.stats(), pool.stats());
 * ```
 *
 * @example Recording as bytes, as to a file
 * ```ts
 * import { Pool } from "@mm/alloc";
 * import { recordTrace } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * // To record to a file, pass its stream instead of this one:
 * // `(await Deno.open(path, { write: true, create: true })).writable`.
 * const decoder = new TextDecoder();
 * let text = "";
 * const byteStream = new WritableStream<Uint8Array>({
 *   write(chunk) {
 *     text += decoder.decode(chunk, { stream: true });
 *   },
 * });
 *
 * const pool = Pool.create(4096);
 * const recorder = recordTrace(pool, { description: "to bytes", byteStream });
 * pool.free(pool.alloc(16));
 * await recorder.stop();
 * assert.equal(text, "# to bytes\na 0 16\nf 0\n");
 * ```
 */
export function recordTrace(pool: Pool, options: RecordTraceOptions = {}): TraceRecorder {
  checkOptions(options, "recordTrace()'s options", ["description", "stream", "byteStream"]);
  if (recorded.has(pool)) {
    throw new Error("This pool is being recorded already; stop() that first.");
  }
  for (const name of ["stream", "byteStream"] as const) {
    const stream = options[name];
    if (stream !== undefined && !(stream instanceof WritableStream)) {
      throw new TypeError(`${name} must be a WritableStream, but got ${describe(stream)}.`);
    }
  }
  if (options.description !== undefined && typeof options.description !== "string") {
    throw new TypeError(`description must be a string, but got ${describe(options.description)}.`);
  }
  if (options.stream !== undefined && options.byteStream !== undefined) {
    throw new TypeError(
      "recordTrace takes a stream of text or a byteStream of bytes, not both.",
    );
  }
  const hiding = RECORDED.filter((name) => Object.hasOwn(pool, name));
  if (hiding.length > 0) {
    throw new TypeError(
      `The pool has its own ${hiding.join(", ")}, which would hide the recorder's wrappers.`,
    );
  }
  const writer = options.stream?.getWriter();
  const byteWriter = options.byteStream?.getWriter();
  const encoder = new TextEncoder();
  let writeError: unknown;
  const failed = (error: unknown) => writeError ??= error;
  const chunks: string[] = [];
  let pending = "";
  const write = (line: string): void => {
    pending += line;
    if (pending.length >= CHUNK_CHARS) flush();
  };
  const flush = (): void => {
    if (pending === "") return;
    chunks.push(pending);
    writer?.write(pending).catch(failed);
    byteWriter?.write(encoder.encode(pending)).catch(failed);
    pending = "";
  };

  // Payload offset -> id of every live block; freed ids wait on a stack.
  const idOf = new Map<number, number>();
  const freeIds: number[] = [];
  // Per id: the block's alignment now, as a replay of the trace so far would give it.
  const alignOf: number[] = [];
  let nextId = 0;
  const born = (offset: number, size: number, align: number): void => {
    const id = freeIds.pop() ?? nextId++;
    idOf.set(offset, id);
    alignOf[id] = align;
    write(align > Size.Align ? `a ${id} ${size} ${align}\n` : `a ${id} ${size}\n`);
  };
  const died = (offset: number): void => {
    const id = idOf.get(offset);
    if (id === undefined) {
      write(`# free of the block at ${offset}, allocated before recording\n`);
      return;
    }
    idOf.delete(offset);
    freeIds.push(id);
    write(`f ${id}\n`);
  };
  /** A resize from `from` to `to` (0 when it found no room), leaving the block `align`-aligned. */
  const resized = (from: number, to: number, size: number, align: number): void => {
    const id = idOf.get(from);
    if (id === undefined) {
      write(`# resize of the block at ${from}, allocated before recording\n`);
      return;
    }
    // The alignment goes on the line only when it changes, as the format keeps it otherwise.
    const line = align === alignOf[id] ? `r ${id} ${id} ${size}` : `r ${id} ${id} ${size} ${align}`;
    if (to === 0) {
      write(`# no room: ${line}\n`);
    } else {
      idOf.delete(from);
      idOf.set(to, id);
      alignOf[id] = align;
      write(`${line}\n`);
    }
  };

  const description = options.description ?? `recorded from a ${pool.byteLength}-byte pool`;
  write(`# ${description.replace(/[\r\n]+/g, " ")}\n`);

  // The layer below: the class's methods, or debug mode's wrappers in front of them.
  const proto = Object.getPrototypeOf(pool) as Pool;
  const wrappers: Recorded = {
    allocate(size: number, allocateOptions?: AllocateOptions): Block | null {
      const block = proto.allocate.call(pool, size, allocateOptions);
      if (block === null) write(`# no room: a ${size}\n`);
      else born(block.offset, size, block.align);
      return block;
    },
    deallocate(block: Block): void {
      proto.deallocate.call(pool, block);
      died(block.offset);
    },
    resize(block: Block, newLength: number): boolean {
      const from = block.offset;
      const done = proto.resize.call(pool, block, newLength);
      resized(from, done ? block.offset : 0, newLength, block.align);
      return done;
    },
    realloc(offset: number, size: number, align?: number): number {
      const moved = proto.realloc.call(pool, offset, size, align);
      resized(offset, moved, size, effectiveAlign(align));
      return moved;
    },
    alloc(size: number, align?: number): number {
      const offset = proto.alloc.call(pool, size, align);
      if (offset === 0) write(`# no room: a ${size}\n`);
      else born(offset, size, effectiveAlign(align));
      return offset;
    },
    free(offset: number): void {
      proto.free.call(pool, offset);
      died(offset);
    },
  };
  const layer = pushLayer(pool, wrappers);
  recorded.add(pool);

  let stopped: Promise<void> | undefined;
  return {
    get recording() {
      return stopped === undefined;
    },
    stop() {
      if (stopped !== undefined) return stopped;
      layer.remove();
      recorded.delete(pool);
      flush();
      const closing = writer?.close() ?? byteWriter?.close();
      stopped = closing === undefined ? Promise.resolve() : closing.then(() => {
        if (writeError !== undefined) throw writeError;
      });
      return stopped;
    },
    toString() {
      if (chunks.length > 1) chunks.splice(0, chunks.length, chunks.join(""));
      return (chunks[0] ?? "") + pending;
    },
  };
}
