/**
 * Recording what a pool is asked to do as an allocation trace (the format
 * `parseTrace` reads), to replay or size it later.
 *
 * @module
 */

import type { Block } from "./block.ts";
import type { AllocateOptions, Pool } from "./pool.ts";
import { Size } from "./tlsf.ts";

/** How `recordTrace` records. */
export interface RecordTraceOptions {
  /** The text of the trace's first line, a comment. Default: the pool's size. */
  description?: string;
  /**
   * Where to send the trace's text as it is made, in chunks of many lines.
   * The recorder holds its writer until `stop()`, which closes it.
   */
  stream?: WritableStream<string>;
}

/** A recording in progress, from `recordTrace`. */
export interface TraceRecorder {
  /** Whether the pool is still being recorded. */
  readonly recording: boolean;
  /**
   * Stops recording: the pool's methods are its class's again. Resolves
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
type Recorded = Pick<Pool, "allocate" | "deallocate" | "resize" | "alloc" | "free" | "realloc">;

/**
 * Records every `allocate`, `deallocate` (and `Block.free`), `resize`,
 * `alloc`, `free` and `realloc` made through `pool`, as an allocation trace: one line
 * per operation, ids reused after a free as the format wants.
 *
 * Recording costs nothing when it is off: it puts wrappers on this one
 * pool object, in front of the class's methods, and `stop()` puts the
 * class's methods back. Calls that throw are not recorded. Requests that
 * find no room, and operations on blocks allocated before recording began,
 * become `#` comments, so the trace stays one that replays.
 *
 * @param pool The pool to record; start on a fresh pool for a trace that replays the same.
 * @param options The first line's text and a stream to write to as it goes.
 * @returns The recorder: its text so far, and `stop()`.
 * @throws {Error} If the pool is being recorded already.
 *
 * @example Recording, then replaying into a fresh pool
 * ```ts
 * import { parseTrace, Pool, recordTrace, replayTrace } from "@mm/alloc";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.create(4096);
 * const recorder = recordTrace(pool, { description: "demo" });
 * const block = pool.allocate(100)!;
 * pool.resize(block, 200);
 * pool.free(pool.alloc(24, 64));
 * block.free();
 * await recorder.stop();
 * assert.equal(recorder.toString(), "# demo\na 0 100\nr 0 0 200\na 1 24 64\nf 1\nf 0\n");
 *
 * const copy = Pool.create(4096);
 * replayTrace(await parseTrace(recorder.toString()), copy);
 * assert.deepEqual(copy.stats(), pool.stats());
 * ```
 */
export function recordTrace(pool: Pool, options: RecordTraceOptions = {}): TraceRecorder {
  if (recorded.has(pool)) {
    throw new Error("This pool is being recorded already; stop() that first.");
  }
  recorded.add(pool);
  const writer = options.stream?.getWriter();
  let writeError: unknown;
  const chunks: string[] = [];
  let pending = "";
  const write = (line: string): void => {
    pending += line;
    if (pending.length >= CHUNK_CHARS) flush();
  };
  const flush = (): void => {
    if (pending === "") return;
    chunks.push(pending);
    writer?.write(pending).catch((error) => writeError ??= error);
    pending = "";
  };

  // Payload offset -> id of every live block; freed ids wait on a stack.
  const idOf = new Map<number, number>();
  const freeIds: number[] = [];
  let nextId = 0;
  const born = (offset: number, size: number, align: number): void => {
    const id = freeIds.pop() ?? nextId++;
    idOf.set(offset, id);
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
  const resized = (from: number, to: number, size: number): void => {
    const id = idOf.get(from);
    if (id === undefined) {
      write(`# resize of the block at ${from}, allocated before recording\n`);
    } else if (to === 0) {
      write(`# no room: r ${id} ${id} ${size}\n`);
    } else {
      idOf.delete(from);
      idOf.set(to, id);
      write(`r ${id} ${id} ${size}\n`);
    }
  };

  const description = options.description ?? `recorded from a ${pool.byteLength}-byte pool`;
  write(`# ${description.replace(/[\r\n]+/g, " ")}\n`);

  // The pool's own methods as they are now, debug mode's wrappers included.
  const original: Recorded = {
    allocate: pool.allocate,
    deallocate: pool.deallocate,
    resize: pool.resize,
    alloc: pool.alloc,
    free: pool.free,
    realloc: pool.realloc,
  };
  const wrappers: Recorded = {
    allocate(size: number, allocateOptions?: AllocateOptions): Block | null {
      const block = original.allocate.call(pool, size, allocateOptions);
      if (block === null) write(`# no room: a ${size}\n`);
      else born(block.offset, size, block.align);
      return block;
    },
    deallocate(block: Block): void {
      original.deallocate.call(pool, block);
      died(block.offset);
    },
    resize(block: Block, newLength: number): boolean {
      const from = block.offset;
      const done = original.resize.call(pool, block, newLength);
      resized(from, done ? block.offset : 0, newLength);
      return done;
    },
    realloc(offset: number, size: number, align?: number): number {
      const moved = original.realloc.call(pool, offset, size, align);
      resized(offset, moved, size);
      return moved;
    },
    alloc(size: number, align?: number): number {
      const offset = original.alloc.call(pool, size, align);
      if (offset === 0) write(`# no room: a ${size}\n`);
      else born(offset, size, align ?? Size.Align);
      return offset;
    },
    free(offset: number): void {
      original.free.call(pool, offset);
      died(offset);
    },
  };
  Object.assign(pool, wrappers);

  let stopped: Promise<void> | undefined;
  return {
    get recording() {
      return stopped === undefined;
    },
    stop() {
      if (stopped !== undefined) return stopped;
      // Assigned rather than deleted: deleting would drop the pool into slow dictionary mode.
      Object.assign(pool, original);
      recorded.delete(pool);
      flush();
      stopped = writer === undefined ? Promise.resolve() : writer.close().then(() => {
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
