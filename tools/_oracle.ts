// The one model of a pool: it carries out the operations of
// tools/_random_ops.ts and judges every answer against what it knows
// independently of the pool: the live blocks with their sizes, alignments
// and contents, the bytes in use, the counters, and the metadata's size
// from the layout arithmetic of docs/layout.md written out again here.
// The property tests, the debug-mode tests, the fuzzer and the soak all
// use it. The fuzzer also injects damage: it then calls the pool no longer
// trusted (`trusted = false`), and only what a damaged pool must still get
// right is judged (payloads in range, never over a live one).

import type { Block, Pool, PoolStats } from "../mod.ts";
import { describeOp, GOLDEN, type Op, type PoolState, Rng } from "./_random_ops.ts";

// ── the layout, as docs/layout.md draws it ─────────────────────────────────

/** Bytes of the fixed pool header. */
const POOL_HEADER = 80;
/** Bytes of one row's second-level bitmap, and of its 32 bin heads. */
const ROW_BITMAP = 4;
const ROW_HEADS = 32 * 4;
/** Blocks and payloads start on multiples of this. */
const ALIGN = 8;
/** The end sentinel. */
const SENTINEL = 8;
/** The header in front of every payload, and the smallest whole block. */
const HEADER = 8;
const MIN_BLOCK = 16;
/** Blocks under this size are in row 0; each row above holds one power of two. */
const SMALL_LIMIT_LOG2 = 8;
/** Contents are written and compared a 4-byte word at a time where they can be. */
const WORD = 4;
const WORD_LOG2 = 2;
/** Guard bytes debug mode puts after every payload, at least. */
const DEBUG_GUARD = 8;

/** Where a pool of `byteLength` bytes puts its first block, and its metadata in all. */
export function expectedLayout(byteLength: number): { first: number; metadataBytes: number } {
  for (let rows = 1;; rows++) {
    const first = Math.ceil((POOL_HEADER + rows * (ROW_BITMAP + ROW_HEADS)) / ALIGN) * ALIGN;
    const largest = byteLength - first - SENTINEL;
    // The fewest rows whose last one still takes the pool's largest possible block.
    const row = largest < 2 ** SMALL_LIMIT_LOG2
      ? 0
      : 31 - Math.clz32(largest) - SMALL_LIMIT_LOG2 + 1;
    if (row < rows) return { first, metadataBytes: first + SENTINEL };
  }
}

/** The smallest whole block (header, payload, rounding) that holds `size` payload bytes. */
export function wholeSizeFor(size: number): number {
  return Math.max(MIN_BLOCK, Math.ceil((size + HEADER) / ALIGN) * ALIGN);
}

// ── verdicts ───────────────────────────────────────────────────────────────

/** What the model can find wrong. */
export type OracleFailureKind =
  /** A payload overlaps a live payload (or, in a trusted pool, its spare capacity). */
  | "overlap"
  /** A payload outside the pool's range. */
  | "out-of-range"
  /** A payload over the pool's metadata. */
  | "payload-in-metadata"
  /** A trusted pool returned a payload off the alignment asked for. */
  | "misaligned"
  /** A trusted pool changed a live payload's bytes. */
  | "contents-changed"
  /** A trusted pool's answers disagree with the model or with each other. */
  | "inconsistent";

/** What the model throws when no `fail` hook takes its verdicts. */
export class OracleError extends Error {
  override name = "OracleError";
  constructor(readonly kind: OracleFailureKind, message: string) {
    super(`${kind}: ${message}`);
  }
}

/** What the `call` hook returns for a call that threw (the hook has judged the error). */
export const THREW: unique symbol = Symbol("threw");
export type Threw = typeof THREW;

/** Ways a user of the model watches or wraps what it does. */
export interface OracleHooks {
  /** Makes a pool call; default: calls `fn`, letting what it throws propagate. */
  call?<T>(fn: () => T): T | Threw;
  /** Takes a verdict; default: throws an OracleError. */
  fail?(kind: OracleFailureKind, message: string): void;
  /** Told of each call before it is made: its kind, and how to describe it (made only when needed). */
  begin?(kind: string, description: () => string): void;
  /** Told of each block the model drops as freed. */
  forget?(entry: Entry): void;
}

/** How a model judges. */
export interface OracleOptions {
  /** The pool is in debug mode: sizes are those asked for, freed blocks wait in quarantine. */
  debug?: boolean;
  /** Draws the contents of new blocks (default: a generator seeded with 1). */
  rng?: Rng;
  /** Also make the judgements that walk the pool (failed resizes, unchanged stats). */
  thorough?: boolean;
  hooks?: OracleHooks;
}

/** One block the model believes live. */
export interface Entry {
  readonly id: number;
  offset: number;
  /** The length asked for. */
  length: number;
  /** Bytes from `offset` claimed in the owner map: the capacity if known, else max(length, 1). */
  extent: number;
  /** What sizeOf() said while the pool was trusted, or -1. */
  capacity: number;
  /** The handle, or null for a raw block. */
  readonly block: Block | null;
  readonly align: number;
  /** The model's `step` when the block was allocated. */
  readonly step: number;
  /** Position in its list (handles or raw blocks). */
  index: number;
}

// ── the model ──────────────────────────────────────────────────────────────

/** A pool and everything the model knows of it. */
export class Oracle {
  readonly pool: Pool;
  readonly debug: boolean;
  readonly thorough: boolean;
  /** The buffer's bytes, and per byte what it should hold if a live entry claims it. */
  readonly bytes: Uint8Array;
  readonly shadow: Uint8Array;
  /** Per byte of the buffer: the id of the live entry claiming it, or 0. */
  readonly owner: Int32Array;
  readonly handles: Entry[] = [];
  readonly raws: Entry[] = [];
  readonly byId: Map<number, Entry> = new Map();
  /** The pool's range in the buffer, and where its blocks begin and end (the sentinel). */
  readonly start: number;
  readonly end: number;
  readonly blocksStart: number;
  readonly blocksEnd: number;
  readonly metadataBytes: number;
  /** False once the pool may be damaged: then only ranges and overlaps are judged. */
  trusted = true;
  /** Set by the user to number the operations in messages. */
  step = 0;
  /** Counters as the pool should keep them (while trusted, outside debug mode). */
  allocations = 0;
  frees = 0;
  failedAllocations = 0;
  /** Resizes and reallocs that found no room: the pool does not count them as failed allocations. */
  failedResizes = 0;
  /** Whole bytes of the live blocks, and the most there have been. */
  bytesUsed = 0;
  peakBytesUsed = 0;
  readonly #rng: Rng;
  readonly #hooks: OracleHooks;
  /** The buffer and the shadow as words, as far as whole words go. */
  readonly #words: Uint32Array;
  readonly #shadowWords: Uint32Array;
  #nextId = 1;

  constructor(pool: Pool, options: OracleOptions = {}) {
    this.pool = pool;
    this.debug = options.debug ?? false;
    this.thorough = options.thorough ?? false;
    this.#rng = options.rng ?? new Rng(1);
    this.#hooks = options.hooks ?? {};
    const buffer = pool.buffer;
    this.bytes = new Uint8Array(buffer);
    this.shadow = new Uint8Array(buffer.byteLength);
    const words = Math.floor(buffer.byteLength / WORD);
    this.#words = new Uint32Array(buffer, 0, words);
    this.#shadowWords = new Uint32Array(this.shadow.buffer, 0, words);
    this.owner = new Int32Array(buffer.byteLength);
    this.start = pool.byteOffset;
    this.end = pool.byteOffset + pool.byteLength;
    const layout = expectedLayout(pool.byteLength);
    this.metadataBytes = layout.metadataBytes;
    this.blocksStart = this.start + layout.first;
    this.blocksEnd = this.end - SENTINEL;
  }

  /** Live blocks. */
  get liveBlocks(): number {
    return this.handles.length + this.raws.length;
  }

  /** Every live entry, handles first. */
  get entries(): Entry[] {
    return [...this.handles, ...this.raws];
  }

  /**
   * What the generator needs to know, from the model's own figures. In
   * debug mode the model does not size blocks (guards, quarantine), so the
   * fill is 0 there: aim debug runs at a live-block count instead.
   */
  state(): PoolState {
    const room = this.pool.byteLength - this.metadataBytes;
    return {
      poolBytes: this.pool.byteLength,
      fill: this.bytesUsed / room,
      liveBlocks: this.liveBlocks,
      handles: this.handles.length,
      raws: this.raws.length,
    };
  }

  /** The live handle, raw block or any block that `pick` names; undefined if none. */
  pickHandle(pick: number): Entry | undefined {
    return this.handles[pick % this.handles.length];
  }

  pickRaw(pick: number): Entry | undefined {
    return this.raws[pick % this.raws.length];
  }

  pickAny(pick: number): Entry | undefined {
    const n = this.liveBlocks;
    if (n === 0) return undefined;
    const i = pick % n;
    return i < this.handles.length ? this.handles[i] : this.raws[i - this.handles.length];
  }

  // ── operations ────────────────────────────────────────────────────────

  /** Carries out `op` on the pool and judges the answer. */
  apply(op: Op): void {
    switch (op.kind) {
      case "allocate":
        return this.#allocate(op);
      case "alloc":
        return this.#alloc(op);
      case "allocateLargest":
        return this.#allocateLargest();
      case "deallocate":
        return this.#deallocate(op);
      case "free":
        return this.#free(op);
      case "resize":
        return this.#resize(op);
      case "realloc":
        return this.#realloc(op);
      case "sizeOf":
        return this.#sizeOf(op);
    }
  }

  #allocate(op: Extract<Op, { kind: "allocate" }>): void {
    const { size, align, zero } = op;
    const pool = this.pool;
    const options: { align?: number; zero?: boolean } = {};
    if (align !== undefined) options.align = align;
    if (zero) options.zero = true;
    const largest = op.askLargest ? this.#askLargest() : -1;
    this.#begin("allocate", () => describeOp(op));
    const block = this.#call(() => pool.allocate(size, options));
    if (block === THREW) return;
    if (block === null) return this.#judgeNull(size, align, largest);
    if (this.trusted && (block.length !== size || !block.live || block.pool !== pool)) {
      return this.#fail(
        "inconsistent",
        `the new block has length ${block.length} for ${size}, live ${block.live}`,
      );
    }
    this.#judgePossible(size, largest);
    this.#place(block.offset, size, align ?? ALIGN, block, zero);
  }

  #alloc(op: Extract<Op, { kind: "alloc" }>): void {
    const { size, align } = op;
    const pool = this.pool;
    const largest = op.askLargest ? this.#askLargest() : -1;
    this.#begin("alloc", () => describeOp(op));
    const offset = this.#call(() =>
      align === undefined ? pool.alloc(size) : pool.alloc(size, align)
    );
    if (offset === THREW) return;
    if (offset === 0) return this.#judgeNull(size, align, largest);
    this.#judgePossible(size, largest);
    this.#place(offset, size, align ?? ALIGN, null, false);
  }

  #allocateLargest(): void {
    const pool = this.pool;
    this.#begin("allocateLargest", () => "allocate(largestFreeBlock())");
    const largest = this.#call(() => pool.largestFreeBlock());
    if (largest === THREW) return;
    const block = this.#call(() => pool.allocate(largest));
    if (block === THREW) return;
    if (block === null) {
      this.failedAllocations++;
      if (this.trusted && largest > 0) {
        this.#fail("inconsistent", `allocate(largestFreeBlock() = ${largest}) found no room`);
      }
      return;
    }
    if (this.trusted && largest === 0 && !this.debug) {
      // 0 means no free block at all: even an empty payload needs one.
      return this.#fail("inconsistent", "allocate(0) worked though largestFreeBlock() was 0");
    }
    this.#place(block.offset, largest, ALIGN, block, false);
  }

  #deallocate(op: Extract<Op, { kind: "deallocate" }>): void {
    const e = this.pickHandle(op.pick);
    if (e === undefined) return;
    const block = e.block!;
    const about = this.#about(e);
    this.#begin(
      "deallocate",
      () => `${op.viaBlock ? "block.free()" : "deallocate(block)"} of ${about()}`,
    );
    if (!this.verifyContents(e)) return;
    const done = this.#call(() => op.viaBlock ? block.free() : this.pool.deallocate(block));
    if (!block.live) this.#freed(e);
    else if (done !== THREW && this.trusted) {
      this.#fail("inconsistent", "the handle is live after its free");
    }
  }

  #free(op: Extract<Op, { kind: "free" }>): void {
    const e = this.pickRaw(op.pick);
    if (e === undefined) return;
    const about = this.#about(e);
    this.#begin("free", () => `free(${e.offset}) of ${about()}`);
    if (!this.verifyContents(e)) return;
    if (this.#call(() => this.pool.free(e.offset)) !== THREW) this.#freed(e);
  }

  #resize(op: Extract<Op, { kind: "resize" }>): void {
    const e = this.pickHandle(op.pick);
    if (e === undefined) return;
    const pool = this.pool;
    const block = e.block!;
    const { size } = op;
    const { offset, length } = e;
    const about = this.#about(e);
    this.#begin("resize", () => `resize(${about()}, ${size})`);
    if (!this.verifyContents(e)) return;
    const thorough = this.thorough && this.trusted ? this.#thoroughBefore(e) : undefined;
    this.owner.fill(0, offset, offset + e.extent);
    const grown = this.#call(() => pool.resize(block, size));
    if (grown === true) {
      if (this.trusted && block.length !== size) {
        this.#fail("inconsistent", `the block's length is ${block.length} after the resize`);
      }
      this.#moved(e, block.offset, size, offset);
      return;
    }
    if (grown === false) this.failedResizes++;
    if (grown === false && this.trusted) {
      if (block.offset !== offset || block.length !== length) {
        this.#fail(
          "inconsistent",
          `a failed resize moved the block to ${block.offset}, ${block.length} bytes`,
        );
      }
      if (thorough) this.#judgeFailedResize(e, size, thorough);
    }
    if (block.live) this.owner.fill(e.id, offset, offset + e.extent);
    else this.#freed(e);
  }

  #realloc(op: Extract<Op, { kind: "realloc" }>): void {
    const e = this.pickRaw(op.pick);
    if (e === undefined) return;
    const pool = this.pool;
    const { size } = op;
    const { offset } = e;
    const about = this.#about(e);
    this.#begin("realloc", () => `realloc(${offset}, ${size}, ${e.align}) of ${about()}`);
    if (!this.verifyContents(e)) return;
    const thorough = this.thorough && this.trusted ? this.#thoroughBefore(e) : undefined;
    this.owner.fill(0, offset, offset + e.extent);
    const moved = this.#call(() => pool.realloc(offset, size, e.align));
    if (moved === 0) this.failedResizes++;
    if (moved === THREW || moved === 0) {
      if (moved === 0 && thorough) this.#judgeFailedResize(e, size, thorough);
      this.owner.fill(e.id, offset, offset + e.extent);
      return;
    }
    this.#moved(e, moved, size, offset);
  }

  #sizeOf(op: Extract<Op, { kind: "sizeOf" }>): void {
    const e = this.pickAny(op.pick);
    if (e === undefined) return;
    const about = this.#about(e);
    this.#begin("sizeOf", () => `sizeOf(${e.offset}) of ${about()}`);
    const cap = this.#call(() => this.pool.sizeOf(e.offset));
    if (cap === THREW || !this.trusted) return;
    const wrong = this.debug
      ? cap !== e.length
      : cap < e.length || (cap + HEADER) % ALIGN !== 0 || (e.capacity >= 0 && cap !== e.capacity);
    if (wrong) {
      this.#fail(
        "inconsistent",
        `sizeOf is ${cap}; length ${e.length}, capacity at allocation ${e.capacity}`,
      );
    }
  }

  /** Frees every live block in a random order; a trusted pool must then be as it began. */
  freeAll(rng: Rng, initial?: PoolStats): void {
    while (this.liveBlocks > 0) {
      const e = this.pickAny(rng.u32())!;
      const about = this.#about(e);
      this.#begin("free", () => `free every block: ${about()}`);
      if (!this.verifyContents(e)) return;
      const done = this.#call(() =>
        e.block ? this.pool.deallocate(e.block) : this.pool.free(e.offset)
      );
      if (done === THREW) return;
      this.#freed(e);
    }
    if (!this.trusted || this.debug) return;
    this.#begin("stats", () => "stats() of the emptied pool");
    const stats = this.#call(() => this.pool.stats());
    if (stats === THREW) return;
    const wrong = [
      stats.liveBlocks !== 0 && `liveBlocks ${stats.liveBlocks}`,
      stats.bytesUsed !== 0 && `bytesUsed ${stats.bytesUsed}`,
      stats.freeBlocks !== 1 && `freeBlocks ${stats.freeBlocks}`,
      stats.bytesFree !== this.pool.byteLength - this.metadataBytes &&
      `bytesFree ${stats.bytesFree}, not ${this.pool.byteLength - this.metadataBytes}`,
      initial && stats.largestFreeBlock !== initial.largestFreeBlock &&
      `largestFreeBlock ${stats.largestFreeBlock}, not ${initial.largestFreeBlock}`,
    ].filter((x) => x !== false && x !== undefined);
    if (wrong.length > 0) {
      this.#fail("inconsistent", `after freeing every block: ${wrong.join(", ")}`);
    }
  }

  // ── judging ───────────────────────────────────────────────────────────

  #call<T>(fn: () => T): T | Threw {
    return this.#hooks.call ? this.#hooks.call(fn) : fn();
  }

  #begin(kind: string, description: () => string): void {
    this.#hooks.begin?.(kind, description);
  }

  #fail(kind: OracleFailureKind, message: string): void {
    if (this.#hooks.fail) this.#hooks.fail(kind, message);
    else throw new OracleError(kind, `step ${this.step}: ${message}`);
  }

  /**
   * The entry as it is now, to describe later: an operation changes its
   * entry before a failure asks for the description.
   */
  #about(e: Entry): () => string {
    const { block, offset, length, step } = e;
    const what = block ? "handle" : "raw block";
    return () => `the ${what} at ${offset} (${length} bytes, step ${step})`;
  }

  #askLargest(): number {
    if (!this.trusted) return -1;
    this.#begin("largestFreeBlock", () => "largestFreeBlock() before an allocation");
    const largest = this.#call(() => this.pool.largestFreeBlock());
    return largest === THREW ? -1 : largest;
  }

  /**
   * A failed allocation must have been impossible: at the default alignment
   * any free block big enough serves; an aligned one may also need room for
   * the gap in front of it. Debug mode asks for its guard bytes as well.
   */
  #judgeNull(size: number, align: number | undefined, largest: number): void {
    this.failedAllocations++;
    // largestFreeBlock() is 0 when no block is free: then even size 0 fails.
    if (!this.trusted || largest <= 0) return;
    const guard = this.debug ? DEBUG_GUARD : 0;
    const possible = (align ?? ALIGN) <= ALIGN
      ? size <= largest
      : wholeSizeFor(size + guard) + align! + ALIGN <= largest + guard + HEADER;
    if (possible) {
      this.#fail(
        "inconsistent",
        `no room for ${size} bytes (align ${align}) though largestFreeBlock() was ${largest}`,
      );
    }
  }

  /** A successful allocation must have been possible. */
  #judgePossible(size: number, largest: number): void {
    if (this.trusted && largest >= 0 && size > largest) {
      this.#fail(
        "inconsistent",
        `allocating ${size} worked though largestFreeBlock() was ${largest}`,
      );
    }
  }

  /** What a thorough judgement of a resize needs from before it. */
  #thoroughBefore(e: Entry): { around: number; largest: number; stats: PoolStats } {
    const infos = [...this.pool.blocks()];
    const i = infos.findIndex((info) => info.offset === e.offset);
    const freeSize = (j: number) => infos[j]?.free ? infos[j]!.blockSize : 0;
    return {
      around: freeSize(i - 1) + infos[i]!.blockSize + freeSize(i + 1),
      largest: this.pool.largestFreeBlock(),
      stats: this.pool.stats(),
    };
  }

  /** A resize fails only if it fits neither around the block nor in any free block, and changes nothing. */
  #judgeFailedResize(
    e: Entry,
    size: number,
    before: { around: number; largest: number; stats: PoolStats },
  ): void {
    const gap = e.align > ALIGN ? e.align + ALIGN : 0;
    if (!this.debug && wholeSizeFor(size) + gap <= before.around) {
      this.#fail(
        "inconsistent",
        `resize to ${size} failed though ${before.around} bytes are free around the block`,
      );
    }
    const largest = before.largest;
    if (largest > 0 && !this.debug) {
      const possible = e.align <= ALIGN
        ? size <= largest
        : wholeSizeFor(size) + e.align + ALIGN <= largest + HEADER;
      if (possible) {
        this.#fail("inconsistent", `resize to ${size} failed though ${largest} was free`);
      }
    }
    if (!this.debug && JSON.stringify(this.pool.stats()) !== JSON.stringify(before.stats)) {
      this.#fail("inconsistent", "a failed resize changed the pool's stats");
    }
  }

  /** The first owner of a byte in [from, to), if any. */
  #claimant(from: number, to: number): Entry | undefined {
    const owner = this.owner;
    // In a trusted pool outside debug mode every claim is whole 8-byte granules
    // (a payload and its capacity), so one byte of each granule tells.
    const stride = this.trusted && !this.debug && (from & (ALIGN - 1)) === 0 ? ALIGN : 1;
    for (let i = from; i < to; i += stride) {
      if (owner[i] !== 0) return this.byId.get(owner[i]!);
    }
    return undefined;
  }

  /** A resized entry now at `offset`: its first bytes must have come along. */
  #moved(e: Entry, offset: number, size: number, from: number): void {
    this.#place(offset, size, e.align, e.block, false, {
      entry: e,
      from,
      kept: Math.min(e.length, size),
    });
  }

  /**
   * Judges a payload the pool just handed out (for a new entry, or for
   * `resized.entry`, whose first `resized.kept` bytes were at `resized.from`)
   * and, if it is good, fills it and claims it.
   */
  #place(
    offset: unknown,
    length: number,
    align: number,
    block: Block | null,
    zeroed: boolean,
    resized?: { entry: Entry; from: number; kept: number },
  ): void {
    const at = `payload [${String(offset)}, ${String(offset)} + ${length})`;
    if (typeof offset !== "number" || !Number.isInteger(offset)) {
      return this.#fail("out-of-range", `${at} is not a whole number`);
    }
    if (offset < this.start || offset + length > this.end) {
      return this.#fail(
        "out-of-range",
        `${at} is outside the pool's range [${this.start}, ${this.end})`,
      );
    }
    if (offset < this.blocksStart + HEADER || offset + Math.max(length, 1) > this.blocksEnd) {
      return this.#fail(
        "payload-in-metadata",
        `${at} is outside the blocks [${this.blocksStart + HEADER}, ${this.blocksEnd})`,
      );
    }
    if (this.trusted && offset % Math.max(align, ALIGN) !== 0) {
      this.#fail("misaligned", `${at} is not aligned to ${align}`);
    }
    let extent = Math.max(length, 1);
    const other = this.#claimant(offset, offset + extent);
    if (other) {
      return this.#fail(
        "overlap",
        `${at} overlaps the live payload [${other.offset}, ${other.offset} + ${other.length}) (capacity ${other.capacity}) allocated at step ${other.step}`,
      );
    }
    let capacity = -1;
    if (this.trusted) {
      const cap = this.#call(() => this.pool.sizeOf(offset));
      if (cap === THREW) return;
      const wrong = this.debug
        ? cap !== length
        : !(cap >= length && offset + cap <= this.blocksEnd &&
          cap + HEADER < wholeSizeFor(length) + MIN_BLOCK);
      if (wrong) return this.#fail("inconsistent", `sizeOf(${offset}) is ${cap} for ${at}`);
      const spare = this.#claimant(offset, offset + cap);
      if (spare) {
        return this.#fail(
          "overlap",
          `the capacity [${offset}, ${offset} + ${cap}) of ${at} overlaps the live payload at ${spare.offset} allocated at step ${spare.step}`,
        );
      }
      capacity = cap;
      extent = Math.max(cap, 1);
    }
    if (resized && !this.verifyContents(resized.entry, resized.kept, offset, resized.from)) return;
    if (zeroed && this.trusted) {
      for (let i = 0; i < length; i++) {
        if (this.bytes[offset + i] !== 0) {
          this.#fail(
            "inconsistent",
            `zero: true left byte ${i} of ${at} at ${this.bytes[offset + i]}`,
          );
          break;
        }
      }
    }
    let e: Entry;
    if (resized) {
      e = resized.entry;
      this.bytesUsed -= this.#whole(e);
      e.offset = offset;
      e.length = length;
      e.extent = extent;
      e.capacity = capacity;
    } else {
      e = {
        id: this.#nextId++,
        offset,
        length,
        extent,
        capacity,
        block,
        align,
        step: this.step,
        index: 0,
      };
      const list = block ? this.handles : this.raws;
      e.index = list.length;
      list.push(e);
      this.byId.set(e.id, e);
      this.allocations++;
    }
    this.bytesUsed += this.#whole(e);
    if (this.bytesUsed > this.peakBytesUsed) this.peakBytesUsed = this.bytesUsed;
    this.owner.fill(e.id, offset, offset + extent);
    this.#fill(offset, length);
  }

  /** The whole block an entry takes, as far as the model knows. */
  #whole(e: Entry): number {
    return this.debug ? 0 : e.capacity < 0 ? wholeSizeFor(e.length) : e.capacity + HEADER;
  }

  /**
   * Fills a payload with a fresh pattern, and the shadow with the same: a
   * word at a time where the payload is on a word (always, in a trusted pool).
   */
  #fill(offset: number, length: number): void {
    const seed = this.#rng.u32();
    const bytes = this.bytes;
    let i = 0;
    if ((offset & (WORD - 1)) === 0) {
      const words = this.#words;
      const shadow = this.#shadowWords;
      const w = offset / WORD;
      for (const n = length >>> WORD_LOG2; i < n; i++) {
        words[w + i] = shadow[w + i] = Math.imul(seed ^ i, GOLDEN);
      }
      i *= WORD;
    }
    for (; i < length; i++) {
      bytes[offset + i] = this.shadow[offset + i] = Math.imul(seed ^ i, GOLDEN) >>> 24;
    }
  }

  /** Drops a freed entry. */
  #freed(e: Entry): void {
    this.owner.fill(0, e.offset, e.offset + e.extent);
    const list = e.block ? this.handles : this.raws;
    const last = list.pop()!;
    if (last !== e) {
      list[e.index] = last;
      last.index = e.index;
    }
    this.byId.delete(e.id);
    this.bytesUsed -= this.#whole(e);
    this.frees++;
    this.#hooks.forget?.(e);
  }

  /**
   * In a trusted pool, checks that `length` bytes of the entry's payload at
   * `offset` still hold what the model put at `source`; false on a failure.
   */
  verifyContents(e: Entry, length = e.length, offset = e.offset, source = e.offset): boolean {
    if (!this.trusted) return true;
    const bytes = this.bytes;
    const shadow = this.shadow;
    let i = 0;
    if (((offset | source) & (WORD - 1)) === 0) {
      const words = this.#words;
      const shadowWords = this.#shadowWords;
      const w = offset / WORD;
      const s = source / WORD;
      const n = length >>> WORD_LOG2;
      while (i < n && words[w + i] === shadowWords[s + i]) i++;
      // The byte loop below finds the byte that differs, or the tail.
      i *= WORD;
    }
    for (; i < length; i++) {
      if (bytes[offset + i] !== shadow[source + i]) {
        this.#fail(
          "contents-changed",
          `byte ${i} of the payload at ${offset} (${e.length} bytes, allocated at step ${e.step}) is ${
            bytes[offset + i]
          }, not ${shadow[source + i]}`,
        );
        return false;
      }
    }
    return true;
  }

  /** Records that the user wrote `values` at `at`; true if every byte landed in a live payload. */
  write(at: number, values: ArrayLike<number>): boolean {
    let owned = true;
    for (let i = 0; i < values.length; i++) {
      const p = at + i;
      if (p < this.start || p >= this.end) continue;
      this.bytes[p] = values[i]!;
      if (this.owner[p] !== 0) this.shadow[p] = values[i]!;
      else owned = false;
    }
    return owned;
  }

  // ── the whole pool ────────────────────────────────────────────────────

  /**
   * Asserts that a trusted pool agrees with the model throughout: check()
   * passes; its blocks tile it; every live block is where the model put it,
   * aligned, with its contents, and no two overlap; the stats are the
   * model's figures (metadata from the layout, bytes used from the blocks'
   * sizes, the counters); and largestFreeBlock() is honest: that much can be
   * allocated, one byte more cannot (probed with an allocation freed again
   * unless `probe` is false).
   */
  verify(probe = true): void {
    if (!this.trusted) return;
    const pool = this.pool;
    pool.check();
    let at = this.blocksStart;
    let used = 0;
    let free = 0;
    let freeBlocks = 0;
    let largestFree = 0;
    const usedBlocks: { offset: number; size: number }[] = [];
    for (const info of pool.blocks()) {
      if (info.blockStart !== at || info.offset !== at + HEADER) {
        return this.#fail("inconsistent", `blocks(): one at ${info.blockStart}, expected at ${at}`);
      }
      if (info.blockSize % ALIGN !== 0 || info.blockSize < MIN_BLOCK) {
        return this.#fail("inconsistent", `blocks(): a ${info.blockSize}-byte block at ${at}`);
      }
      if (info.free) {
        free += info.blockSize;
        freeBlocks++;
        largestFree = Math.max(largestFree, info.blockSize);
      } else {
        used += info.blockSize;
        usedBlocks.push({ offset: info.offset, size: info.blockSize });
      }
      at += info.blockSize;
    }
    if (at !== this.blocksEnd) {
      return this.#fail(
        "inconsistent",
        `blocks() end at ${at}, not at the sentinel ${this.blocksEnd}`,
      );
    }

    const sorted = this.entries.sort((a, b) => a.offset - b.offset);
    let previousEnd = 0;
    for (const e of sorted) {
      if (!this.verifyContents(e)) return;
      if (e.offset % Math.max(e.align, ALIGN) !== 0) {
        this.#fail("misaligned", `the block at ${e.offset} is not aligned to ${e.align}`);
      }
      const capacity = pool.sizeOf(e.offset);
      if (capacity !== (this.debug ? e.length : e.capacity)) {
        this.#fail("inconsistent", `sizeOf(${e.offset}) is ${capacity}, was ${e.capacity}`);
      }
      if (e.offset - HEADER < previousEnd) {
        this.#fail("overlap", `the block at ${e.offset} overlaps the one before`);
      }
      previousEnd = e.offset + capacity;
      const b = e.block;
      if (
        b && (!b.live || b.offset !== e.offset || b.length !== e.length || b.u8.length !== e.length)
      ) {
        this.#fail(
          "inconsistent",
          `the handle of ${this.#about(e)()} says ${b.offset}, ${b.length}, live ${b.live}`,
        );
      }
    }
    const expectedUsed = this.debug
      ? pool.leaks().map((leak) => leak.offset).sort((x, y) => x - y).join()
      : usedBlocks.map((u) => `${u.offset}:${u.size}`).join();
    const modelUsed = this.debug
      ? sorted.map((e) => e.offset).join()
      : sorted.map((e) => `${e.offset}:${e.capacity + HEADER}`).join();
    if (expectedUsed !== modelUsed) {
      this.#fail(
        "inconsistent",
        `the pool's ${
          this.debug ? "leaks()" : "used blocks"
        } are ${expectedUsed}, the model's ${modelUsed}`,
      );
    }

    const stats = pool.stats();
    const expected: Partial<PoolStats> = {
      capacity: pool.byteLength,
      metadataBytes: this.metadataBytes,
      bytesUsed: used,
      bytesFree: free,
      freeBlocks,
      fragmentation: free > 0 ? 1 - largestFree / free : 0,
    };
    if (!this.debug) {
      Object.assign(expected, {
        bytesUsed: this.bytesUsed,
        largestFreeBlock: largestFree === 0 ? 0 : largestFree - HEADER,
        liveBlocks: this.liveBlocks,
        peakBytesUsed: this.peakBytesUsed,
        allocations: this.allocations,
        frees: this.frees,
        failedAllocations: this.failedAllocations,
      });
    }
    const wrong = Object.entries(expected).filter(([k, v]) => stats[k as keyof PoolStats] !== v)
      .map(([k, v]) => `${k} ${stats[k as keyof PoolStats]}, expected ${v}`);
    if (stats.bytesUsed + stats.bytesFree + stats.metadataBytes !== pool.byteLength) {
      wrong.push("bytesUsed + bytesFree + metadataBytes is not the pool's byteLength");
    }
    if (pool.bytesUsed() !== stats.bytesUsed) wrong.push(`bytesUsed() ${pool.bytesUsed()}`);
    if (pool.bytesFree() !== stats.bytesFree) wrong.push(`bytesFree() ${pool.bytesFree()}`);
    if (pool.largestFreeBlock() !== stats.largestFreeBlock) {
      wrong.push(`largestFreeBlock() ${pool.largestFreeBlock()}`);
    }
    if (wrong.length > 0) return this.#fail("inconsistent", `stats(): ${wrong.join("; ")}`);
    if (probe) this.#probeLargest();
  }

  /** allocate(largestFreeBlock() + 1) must fail and allocate(largestFreeBlock()) work. */
  #probeLargest(): void {
    const pool = this.pool;
    const largest = pool.largestFreeBlock();
    const over = pool.alloc(largest + 1);
    if (over !== 0) {
      pool.free(over);
      return this.#fail("inconsistent", `alloc(largestFreeBlock() + 1 = ${largest + 1}) worked`);
    }
    this.failedAllocations++;
    const offset = pool.alloc(largest);
    if (offset === 0) {
      this.failedAllocations++;
      if (largest > 0) this.#fail("inconsistent", `alloc(largestFreeBlock() = ${largest}) failed`);
      return;
    }
    this.allocations++;
    this.peakBytesUsed = Math.max(
      this.peakBytesUsed,
      this.bytesUsed + pool.sizeOf(offset) + HEADER,
    );
    pool.free(offset);
    this.frees++;
  }
}
