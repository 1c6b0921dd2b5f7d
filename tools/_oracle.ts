// The one model of a pool: it carries out the operations of
// tools/_random_ops.ts and judges every answer against what it knows
// independently of the pool: the live blocks with their sizes, alignments
// and contents, the bytes in use, the counters, and the metadata's size
// from the layout arithmetic of docs/layout.md written out again here.
// The property tests, the debug-mode tests, the fuzzer and the soak all
// use it. The fuzzer also injects damage: it then calls the pool no longer
// trusted (`trusted = false`), and only what a damaged pool must still get
// right is judged (payloads in range, never over a live one).

import type { Block, BlockInfo, Pool, PoolStats } from "../mod.ts";
import { warmUp } from "../src/engine/runs.ts";
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

/** The smallest pool that has the runs tier. */
export const RUNS_MIN_POOL = 131072;
/**
 * The runs tier's words after the bin heads: five counters, then a list
 * head and a count of requests served by blocks per class.
 */
const RUNS_COUNTERS = 5;
const WORDS_PER_CLASS = 2;
/** Slot sizes: multiples of SLOT_STEP from SLOT_MIN to SLOT_MAX, one class each. */
export const SLOT_MIN = 16;
export const SLOT_MAX = 256;
const SLOT_STEP = 8;
const SLOT_CLASSES = 31;
/**
 * A run's header; its slots fill RUN_TARGET bytes (RUN_WIDE_TARGET for slots above RUN_NARROW_MAX)
 * or as near below as whole slots do, 32 at most, and always enough to outgrow a map chunk.
 */
export const RUN_HEADER = 32;
const RUN_TARGET = 768;
const RUN_NARROW_MAX = 64;
const RUN_WIDE_TARGET = 608;
const RUN_MAX_SLOTS = 32;
/** Bytes a run map entry covers. */
export const MAP_CHUNK = 512;
/** Offsets in a run's header of its info word (class, slot count). */
const RUN_INFO = 8;
const INFO_CLASS_SHIFT = 3;
const INFO_CLASS_MASK = 31;
const INFO_COUNT_SHIFT = 8;
const INFO_COUNT_MASK = 63;
/** Low bits of a block header that are flags, not size. */
const FLAG_BITS = 7;

/** The slot a request of `size` bytes gets in a pool with runs (at most SLOT_MAX). */
export function slotFor(size: number): number {
  return size <= SLOT_MIN ? SLOT_MIN : Math.ceil(size / SLOT_STEP) * SLOT_STEP;
}

/** Slots in a run of `slot`-byte slots. */
export function slotsPerRun(slot: number): number {
  const target = slot <= RUN_NARROW_MAX ? RUN_TARGET : RUN_WIDE_TARGET;
  let count = Math.floor(target / slot);
  while (RUN_HEADER + count * slot <= MAP_CHUNK) count++;
  return Math.min(RUN_MAX_SLOTS, count);
}

/** Where a pool puts its metadata, as docs/layout.md draws it. */
export interface Layout {
  /** Offset of the first block from the pool's start. */
  first: number;
  /** The fixed metadata: header, bitmaps, bin heads, the runs tier's words and map, sentinel. */
  metadataBytes: number;
  /** Offset of the run map from the pool's start, and its bytes; 0 without runs. */
  map: number;
  mapBytes: number;
}

/** Where a pool of `byteLength` bytes puts its first block, and its metadata in all. */
export function expectedLayout(byteLength: number): Layout {
  for (let rows = 1;; rows++) {
    const heads = POOL_HEADER + rows * (ROW_BITMAP + ROW_HEADS);
    // The rows are chosen as if there were no runs tier: its words and map come after.
    const bare = Math.ceil(heads / ALIGN) * ALIGN;
    const largest = byteLength - bare - SENTINEL;
    // The fewest rows whose last one still takes the pool's largest possible block.
    const row = largest < 2 ** SMALL_LIMIT_LOG2
      ? 0
      : 31 - Math.clz32(largest) - SMALL_LIMIT_LOG2 + 1;
    if (row < rows) {
      const runs = byteLength >= RUNS_MIN_POOL;
      const map = runs ? heads + (RUNS_COUNTERS + WORDS_PER_CLASS * SLOT_CLASSES) * WORD : 0;
      const mapBytes = runs ? Math.ceil((byteLength - SENTINEL) / MAP_CHUNK) : 0;
      const first = runs ? Math.ceil((map + mapBytes) / ALIGN) * ALIGN : bare;
      return { first, metadataBytes: first + SENTINEL, map, mapBytes };
    }
  }
}

/** The smallest whole block (header, payload, rounding) that holds `size` payload bytes. */
export function wholeSizeFor(size: number): number {
  return Math.max(MIN_BLOCK, Math.ceil((size + HEADER) / ALIGN) * ALIGN);
}

// ── a walk of blocks(), by the layout's rules ──────────────────────────────

/** A run that a walk of `blocks()` found: its slots came one after another behind a header. */
export interface RunSeen {
  /** Where its header starts, in the buffer. */
  start: number;
  /** Its whole size: header, slots and the tail the TLSF tier could not split off. */
  size: number;
  slot: number;
  count: number;
  /** Live slots. */
  live: number;
}

/** What a walk of `blocks()` finds, each figure as the pool's stats should give it. */
export interface Walk {
  /** Live blocks and slots: payload offset and whole size, in address order. */
  used: { offset: number; size: number }[];
  bytesUsed: number;
  bytesFree: number;
  /** Free blocks of the TLSF tier. */
  freeBlocks: number;
  /** Free blocks of the TLSF tier, as `blocks()` gave them. */
  free: BlockInfo[];
  runs: RunSeen[];
  /** Headers and tails of runs that hold a live slot. */
  overhead: number;
  slotBytesFree: number;
  /**
   * The largest free space in whole bytes: a free block, a free slot, or
   * the room that giving back the empty runs held would make (they lie
   * among free blocks, at most one per class).
   */
  largestFree: number;
  /** The largest payload allocate can get: of that space, or a free slot. */
  largestFreeBlock: number;
}

/**
 * Walks what `blocks()` yields: blocks of the TLSF tier tile the pool from
 * `blocksStart` to the sentinel at `blocksEnd`, each header in front of its
 * payload, but for runs, whose slots have no header and come behind a
 * RUN_HEADER-byte header that no block covers, and whose tail (0 or 8
 * bytes) no block covers either. Returns the figures, or what is wrong.
 */
export function walkBlocks(
  infos: Iterable<BlockInfo>,
  blocksStart: number,
  blocksEnd: number,
): Walk | string {
  const walk: Walk = {
    used: [],
    bytesUsed: 0,
    bytesFree: 0,
    freeBlocks: 0,
    free: [],
    runs: [],
    overhead: 0,
    slotBytesFree: 0,
    largestFree: 0,
    largestFreeBlock: 0,
  };
  // In address order: a free block (its size), a used one (-1), or a run.
  const units: (number | RunSeen)[] = [];
  let largestBlock = 0;
  let largestSlot = 0;
  let at = blocksStart;
  let run: RunSeen | null = null;
  let left = 0;
  /** Ends the run just walked where the next thing starts; a tail of 0 or 8 bytes is its own. */
  const close = (next: number): string | undefined => {
    if (left > 0) return `blocks(): the run at ${run!.start} ends after ${run!.count - left} slots`;
    const tail = next - at;
    if (tail !== 0 && tail !== ALIGN) {
      return `blocks(): ${tail} bytes after the run at ${run!.start}, not a tail of 0 or 8`;
    }
    run!.size += tail;
    at = next;
    run = null;
  };
  for (const info of infos) {
    if (info.blockStart === info.offset) {
      if (run === null || left === 0) {
        const wrong = run === null ? undefined : close(info.blockStart - RUN_HEADER);
        if (wrong) return wrong;
        const slot = info.blockSize;
        if (info.blockStart - RUN_HEADER !== at) {
          return `blocks(): a run whose first slot is at ${info.blockStart}, where a run's header starts at ${at}`;
        }
        if (slot < SLOT_MIN || slot > SLOT_MAX || slot % SLOT_STEP !== 0) {
          return `blocks(): a ${slot}-byte slot at ${info.offset}`;
        }
        const count = slotsPerRun(slot);
        run = { start: at, size: RUN_HEADER + count * slot, slot, count, live: 0 };
        walk.runs.push(run);
        units.push(run);
        left = count;
        at += RUN_HEADER;
      }
      if (info.blockStart !== at || info.blockSize !== run.slot || info.length !== run.slot) {
        return `blocks(): a ${info.blockSize}-byte slot at ${info.offset}, where slot ${
          run.count - left
        } of the run at ${run.start} (${run.slot} bytes) is at ${at}`;
      }
      left--;
      at += run.slot;
      if (info.free) {
        walk.slotBytesFree += run.slot;
        largestSlot = Math.max(largestSlot, run.slot);
      } else {
        run.live++;
        walk.used.push({ offset: info.offset, size: run.slot });
        walk.bytesUsed += run.slot;
      }
      continue;
    }
    if (run !== null) {
      const wrong = close(info.blockStart);
      if (wrong) return wrong;
    }
    if (info.blockStart !== at || info.offset !== at + HEADER) {
      return `blocks(): one at ${info.blockStart}, expected at ${at}`;
    }
    if (info.blockSize % ALIGN !== 0 || info.blockSize < MIN_BLOCK) {
      return `blocks(): a ${info.blockSize}-byte block at ${at}`;
    }
    if (info.free) {
      walk.bytesFree += info.blockSize;
      walk.freeBlocks++;
      walk.free.push(info);
      largestBlock = Math.max(largestBlock, info.blockSize);
      units.push(info.blockSize);
    } else {
      walk.bytesUsed += info.blockSize;
      walk.used.push({ offset: info.offset, size: info.blockSize });
      units.push(-1);
    }
    at += info.blockSize;
  }
  if (run !== null) {
    const wrong = close(blocksEnd);
    if (wrong) return wrong;
  }
  if (at !== blocksEnd) return `blocks() end at ${at}, not at the sentinel ${blocksEnd}`;

  let largest = Math.max(largestBlock, largestSlot);
  // Room of free blocks and empty runs side by side, counted where an empty run is among them.
  let room = 0;
  let held = false;
  for (const unit of [...units, -1]) {
    const empty = typeof unit !== "number" && unit.live === 0;
    if (typeof unit === "number" && unit >= 0) room += unit;
    else if (empty) {
      room += (unit as RunSeen).size;
      held = true;
    } else {
      if (held) largest = Math.max(largest, room);
      room = 0;
      held = false;
    }
    if (typeof unit !== "number") {
      const spare = unit.size - unit.count * unit.slot;
      if (empty) walk.bytesFree += spare;
      else walk.overhead += spare;
    }
  }
  walk.bytesFree += walk.slotBytesFree;
  walk.largestFree = largest;
  walk.largestFreeBlock = Math.max(largest >= MIN_BLOCK ? largest - HEADER : 0, largestSlot);
  return walk;
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
  /** Whether it is a slot of a run (no header: its whole size is its capacity), as far as known. */
  slot: boolean;
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
  /** Where the metadata lies, from the layout arithmetic. */
  readonly layout: Layout;
  /** Runs lie below this offset in the buffer: the pool's end when it was made; 0 without runs. */
  readonly mapEnd: number;
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
  /** The highest bytes used, runs' headers included, that a check has seen: the pool's peak is no lower. */
  peakSeen = 0;
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
    this.layout = layout;
    this.metadataBytes = layout.metadataBytes;
    this.blocksStart = this.start + layout.first;
    this.blocksEnd = this.end - SENTINEL;
    this.mapEnd = layout.map === 0 ? 0 : this.blocksEnd;
    // An empty pool may have been used already (its classes warmed up): count from where it is.
    const stats = pool.stats();
    this.allocations = stats.allocations;
    this.frees = stats.frees;
    this.failedAllocations = stats.failedAllocations;
    this.peakBytesUsed = stats.peakBytesUsed;
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

  /**
   * Frees every live block in a random order; a trusted pool must then be
   * as it began: all its space free, the most of it allocatable at once. An
   * empty run held back for its class splits the free space until an
   * allocation of all of it gives the runs back: the model makes that one
   * (and frees it) and the pool must then be one free block.
   */
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
      stats.freeBlocks !== 1 && stats.freeBlocks > stats.runs + 1 &&
      `freeBlocks ${stats.freeBlocks} with ${stats.runs} runs`,
      stats.metadataBytes !== this.metadataBytes && `metadataBytes ${stats.metadataBytes}`,
      stats.slotBytesFree > stats.bytesFree && `slotBytesFree ${stats.slotBytesFree}`,
      stats.bytesFree !== this.pool.byteLength - this.metadataBytes &&
      `bytesFree ${stats.bytesFree}, not ${this.pool.byteLength - this.metadataBytes}`,
      initial && stats.largestFreeBlock !== initial.largestFreeBlock &&
      `largestFreeBlock ${stats.largestFreeBlock}, not ${initial.largestFreeBlock}`,
    ].filter((x) => x !== false && x !== undefined);
    if (wrong.length > 0) {
      return this.#fail("inconsistent", `after freeing every block: ${wrong.join(", ")}`);
    }
    if (stats.runs === 0) return;
    const all = stats.largestFreeBlock;
    this.#begin("alloc", () => `alloc(${all}) of the emptied pool, all its free space`);
    const offset = this.#call(() => this.pool.alloc(all));
    if (offset === THREW) return;
    if (offset === 0) {
      this.failedAllocations++;
      return this.#fail(
        "inconsistent",
        `alloc(largestFreeBlock() = ${all}) of the emptied pool failed`,
      );
    }
    this.allocations++;
    this.peakBytesUsed = Math.max(this.peakBytesUsed, all + HEADER);
    this.#begin("free", () => `free(${offset}), all the emptied pool's free space`);
    if (this.#call(() => this.pool.free(offset)) === THREW) return;
    this.frees++;
    const after = this.#call(() => this.pool.stats());
    if (after === THREW) return;
    if (after.freeBlocks !== 1 || after.runs !== 0 || after.largestFreeBlock !== all) {
      this.#fail(
        "inconsistent",
        `after allocating all of the emptied pool and freeing it: ${after.freeBlocks} free blocks, ${after.runs} runs, largestFreeBlock ${after.largestFreeBlock}`,
      );
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
    const possible = (align ?? ALIGN) <= ALIGN ? size <= largest : this.#blockSpace(largest) &&
      wholeSizeFor(size + guard) + align! + ALIGN <= largest + guard + HEADER;
    if (possible) {
      this.#fail(
        "inconsistent",
        `no room for ${size} bytes (align ${align}) though largestFreeBlock() was ${largest}`,
      );
    }
  }

  /**
   * Whether largestFreeBlock() `largest` is known to be space of the TLSF
   * tier, where an aligned block can go: a free slot (at most SLOT_MAX bytes)
   * takes only requests at the default alignment.
   */
  #blockSpace(largest: number): boolean {
    return this.mapEnd === 0 || largest > SLOT_MAX;
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
    // A block grows into the free blocks beside it, never into a slot; a slot grows nowhere.
    const freeSize = (j: number) =>
      infos[j]?.free && infos[j]!.blockStart !== infos[j]!.offset ? infos[j]!.blockSize : 0;
    return {
      around: e.slot
        ? infos[i]!.blockSize + HEADER
        : freeSize(i - 1) + infos[i]!.blockSize + freeSize(i + 1),
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
        : this.#blockSpace(largest) && wholeSizeFor(size) + e.align + ALIGN <= largest + HEADER;
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
    let slot = false;
    if (this.trusted) {
      const cap = this.#call(() => this.pool.sizeOf(offset));
      if (cap === THREW) return;
      const slotSize = this.slotAt(offset);
      slot = slotSize > 0;
      // A slot is of the request's class, or (when that class and the TLSF tier had no room)
      // of a larger one, or the one a resize to a smaller class kept for want of room.
      const wrong = this.debug
        ? cap !== length
        : slot
        ? !(cap === slotSize && cap >= length && align <= ALIGN)
        : !(cap >= length && offset + cap <= this.blocksEnd &&
          cap + HEADER < wholeSizeFor(length) + MIN_BLOCK);
      if (wrong) {
        return this.#fail(
          "inconsistent",
          `sizeOf(${offset}) is ${cap} for ${at}${slot ? `, a ${slotSize}-byte slot` : ""}`,
        );
      }
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
      e.slot = slot;
    } else {
      e = {
        id: this.#nextId++,
        offset,
        length,
        extent,
        capacity,
        slot,
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

  /**
   * The slot size if `offset` is the start of a slot of a run, else 0: read
   * from the run map and the run's header as docs/layout.md draws them.
   */
  slotAt(offset: number): number {
    const rel = offset - this.start;
    if (this.mapEnd === 0 || rel < 0 || offset >= this.mapEnd) return 0;
    const bytes = this.bytes;
    const map = this.start + this.layout.map;
    const g = Math.floor(rel / MAP_CHUNK);
    const chunkEnd = (g + 1) * MAP_CHUNK;
    // An entry is the distance from the start of the run that holds its chunk's last byte.
    const entry = bytes[map + g]!;
    let run = -1;
    if (entry !== 0 && rel >= chunkEnd - entry * SLOT_STEP) run = chunkEnd - entry * SLOT_STEP;
    else if (g > 0 && bytes[map + g - 1]! !== 0) {
      const before = chunkEnd - MAP_CHUNK - bytes[map + g - 1]! * SLOT_STEP;
      if (rel < before + (this.#word(this.start + before) & ~FLAG_BITS)) run = before;
    }
    if (run < 0) return 0;
    const info = this.#word(this.start + run + RUN_INFO);
    const slot = (((info >>> INFO_CLASS_SHIFT) & INFO_CLASS_MASK) * SLOT_STEP) + SLOT_MIN;
    const count = (info >>> INFO_COUNT_SHIFT) & INFO_COUNT_MASK;
    const d = rel - run - RUN_HEADER;
    return d >= 0 && d % slot === 0 && d / slot < count ? slot : 0;
  }

  /** The little-endian word at byte `at` of the buffer. */
  #word(at: number): number {
    const b = this.bytes;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  /** The whole block an entry takes, as far as the model knows. */
  #whole(e: Entry): number {
    if (this.debug) return 0;
    if (e.capacity < 0) {
      return e.length <= SLOT_MAX && this.mapEnd !== 0 ? slotFor(e.length) : wholeSizeFor(e.length);
    }
    return e.slot ? e.capacity : e.capacity + HEADER;
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
   * passes; its blocks and runs tile it (see `walkBlocks`); every live block
   * is where the model put it, aligned, with its contents, and no two
   * overlap; the stats are the model's figures (fixed metadata from the
   * layout, the headers and tails of the runs with a live slot, bytes used
   * from the blocks' and slots' sizes, the runs and their free slots as the
   * walk finds them, the counters); and largestFreeBlock() is honest: the
   * walk's figure, and that much can be allocated, one byte more cannot
   * (probed with an allocation freed again unless `probe` is false).
   */
  verify(probe = true): void {
    if (!this.trusted) return;
    const pool = this.pool;
    pool.check();
    const walk = walkBlocks(pool.blocks(), this.blocksStart, this.blocksEnd);
    if (typeof walk === "string") return this.#fail("inconsistent", walk);

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
      if (e.offset - (e.slot ? 0 : HEADER) < previousEnd) {
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
      : walk.used.map((u) => `${u.offset}:${u.size}`).join();
    const modelUsed = this.debug
      ? sorted.map((e) => e.offset).join()
      : sorted.map((e) => `${e.offset}:${this.#whole(e)}`).join();
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
      // A run that holds a live slot counts its header and tail as used, as a block its header.
      metadataBytes: this.metadataBytes,
      bytesUsed: walk.bytesUsed + walk.overhead,
      bytesFree: walk.bytesFree,
      freeBlocks: walk.freeBlocks,
      fragmentation: walk.bytesFree > 0 ? 1 - walk.largestFree / walk.bytesFree : 0,
      runs: walk.runs.length,
      slotBytesFree: walk.slotBytesFree,
    };
    if (!this.debug) {
      this.peakSeen = Math.max(this.peakSeen, this.bytesUsed + walk.overhead);
      Object.assign(expected, {
        bytesUsed: this.bytesUsed + walk.overhead,
        largestFreeBlock: walk.largestFreeBlock,
        liveBlocks: this.liveBlocks,
        allocations: this.allocations,
        frees: this.frees,
        failedAllocations: this.failedAllocations,
      });
    }
    if (this.mapEnd === 0 && walk.runs.length > 0) {
      this.#fail("inconsistent", `a ${pool.byteLength}-byte pool has runs`);
    }
    const wrong = Object.entries(expected).filter(([k, v]) => stats[k as keyof PoolStats] !== v)
      .map(([k, v]) => `${k} ${stats[k as keyof PoolStats]}, expected ${v}`);
    // The blocks' own bytes peak where the model says; the runs' headers can only add to that, and
    // a check sees them only as it goes.
    const peak = Math.max(this.peakBytesUsed, this.peakSeen);
    if (!this.debug && stats.peakBytesUsed < peak) {
      wrong.push(`peakBytesUsed ${stats.peakBytesUsed}, expected at least ${peak}`);
    }
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
    const capacity = pool.sizeOf(offset);
    this.peakBytesUsed = Math.max(
      this.peakBytesUsed,
      this.bytesUsed + (this.slotAt(offset) > 0 ? capacity : capacity + HEADER),
    );
    pool.free(offset);
    this.frees++;
  }
}

/**
 * Runs `make` with the runs tier's warm-up (`warmUp` in src/engine/runs.ts)
 * set to `requests`, so that the pool it makes gets runs after that many
 * requests of a class rather than Slot.Warm; then sets it back.
 */
export function withWarmUp<T>(requests: number, make: () => T): T {
  const saved = warmUp.requests;
  warmUp.requests = requests;
  try {
    return make();
  } finally {
    warmUp.requests = saved;
  }
}
