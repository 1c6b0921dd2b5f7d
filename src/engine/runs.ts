/**
 * The runs tier: requests of up to Slot.Max bytes get a slot in a run, a
 * block of the TLSF tier cut into equal slots that have no header of their
 * own. A run's one header says which slots are free; a map of a byte per
 * 512-byte chunk leads from any offset to the run around it in O(1). Every
 * other request, and every request in a pool too small for runs, goes to
 * the TLSF tier as before. `docs/layout.md` draws the same picture at more
 * length.
 *
 * @module
 */

import { corrupt } from "../common/errors.ts";
import {
  blockSizeFor,
  Build,
  checkWord,
  Flag,
  HeaderF64,
  HeaderWord,
  headsEnd,
  Size,
  Status,
  Tlsf,
  UsedField,
  Value,
} from "./tlsf.ts";

// ── layout ────────────────────────────────────────────────────────────────
//
// After the bin heads, a pool of RunMap.MinPool bytes or more keeps the runs
// tier's words and its map:
//
// ┌──────────┬──────┬──────────┬───────────┬────────┬───────────────┬────────────────────────┐
// │ classes  │ runs │ overhead │ slotsFree │ mapEnd │ heads (31 u32)│ map: 1 byte per chunk  │
// └──────────┴──────┴──────────┴───────────┴────────┴───────────────┴────────────────────────┘
//
// A run is a used block of the TLSF tier:
//
// ┌────────────┬─────────┬────────┬────────┬─────────┬────────┬────────┬─────────┬────────┬─────┬──────┐
// │ size | P   │ check   │ info   │ free   │ handles │ next   │ prev   │ allFree │ slot 0 │ ... │ tail │
// └────────────┴─────────┴────────┴────────┴─────────┴────────┴────────┴─────────┴────────┴─────┴──────┘
// r            r+4       r+8      r+12     r+16      r+20     r+24     r+28      r+32
//
// info packs the class, the slot count and the reciprocal that divides by
// the slot size; the check word hashes the run's offset, size and info.
// Bit i of `free` is set while slot i is free, of `handles` while a `Block`
// owns it. A run with a free slot is in its class's list (next, prev; the
// first run's prev is the list's head node); a full run is in none.
//
// The map's byte for chunk g (bytes [512g, 512g + 512)) is 0, or the
// distance in 8-byte units from the start of the run that holds the chunk's
// last byte to the chunk's end. Runs are longer than a chunk, so the run
// around an offset holds the last byte of the offset's chunk or of the one
// before it.

/** Slot sizes, in bytes. */
export const enum Slot {
  /** The smallest slot: requests of 0 to 16 bytes share it. */
  Min = 16,
  /** The largest slot: requests above it go to the TLSF tier. */
  Max = 256,
  /** Slot sizes are the multiples of this from Min to Max. */
  Step = 8,
  /** log2 of Step. */
  StepLog2 = 3,
  /** Class k has slots of (k + ClassBase) · Step bytes. */
  ClassBase = 2,
  /** Size classes. */
  Classes = 31,
  /** Slot bytes a run aims at: its slots fill this much, or as near below as whole slots do. */
  Target = 768,
  /** The most slots a run has: one bit each in a 32-bit word. */
  MaxPerRun = 32,
}

/** Byte offsets of a run's fields; the first two are a used block's header. */
export const enum RunField {
  /** Class, slot count and divisor (see RunInfo). */
  Info = 8,
  /** Bit i set while slot i is free. */
  Free = 12,
  /** Bit i set while a `Block` handle owns slot i. */
  Handles = 16,
  /** The next run in its class's list (Nil at the end). */
  Next = 20,
  /** The previous run in its class's list, or the list's head node; Nil while full. */
  Prev = 24,
  /** The value of Free when every slot is free. */
  AllFree = 28,
  /** The header's bytes: slot 0 starts here. */
  Header = 32,
}

/** How RunField.Info packs its fields. */
export const enum RunInfo {
  /** The low bits are 0, so that a run's check word is never a block's (see `runCheck`). */
  ClassShift = 3,
  /** Class bits, after the shift. */
  ClassMask = 31,
  /** Shift of the slot count. */
  CountShift = 8,
  /** Slot count bits, after the shift. */
  CountMask = 63,
  /** Shift of the divisor: ceil(2^DivShift / slot size). */
  DivisorShift = 14,
  /** An offset `d` into the slots is in slot `(d · divisor) >>> DivShift`: exact for d < 2^13. */
  DivShift = 21,
  /**
   * XORed with info before it goes into the check word: "DRUN", whose low
   * bits 100 make the check word differ from a block's plain one (low bits
   * 000 more) and from a handle-marked one (111 more) in its low bits.
   */
  Mark = 0x4e555244,
}

/** The runs tier's words after the bin heads, as indices from the first. */
export const enum RunsWord {
  /** Bit k set when class k's list has a run, so a slot of that class is free. */
  Classes = 0,
  /** Runs in the pool. */
  Runs = 1,
  /** Header and tail bytes of the runs that hold a live slot: metadata. */
  Overhead = 2,
  /** Bytes in the free slots of every run. */
  SlotsFree = 3,
  /** Runs lie below this offset: the pool's end when it was made, which the map covers. */
  MapEnd = 4,
  /** The first of Slot.Classes list heads. */
  Heads = 5,
  /** The map's first byte is at this word. */
  Map = Heads + Slot.Classes,
}

/** The run map's geometry. */
export const enum RunMap {
  /** log2 of the bytes a map entry covers. */
  ChunkLog2 = 9,
  /** Bytes a map entry covers: less than the smallest run. */
  Chunk = 512,
  /** The smallest pool that has runs: in a smaller one, a run per class would take too much. */
  MinPool = 131072,
}

const { clz32, imul } = Math;

/** Class of a request of `size` bytes (at most Slot.Max). */
export function classOf(size: number): number {
  return size <= Slot.Min ? 0 : ((size + Slot.Step - 1) >>> Slot.StepLog2) - Slot.ClassBase;
}

/** Slot size of class `k`. */
export function slotSize(k: number): number {
  return (k + Slot.ClassBase) << Slot.StepLog2;
}

/** Slots in a run of class `k`. */
export function slotsPerRun(k: number): number {
  return Math.min(Slot.MaxPerRun, Math.floor(Slot.Target / slotSize(k)));
}

/** Bytes of metadata after the bin heads of a pool whose blocks end at `end`: none without runs. */
export function runsMetadata(end: number): number {
  return end + Size.Sentinel < RunMap.MinPool
    ? 0
    : RunsWord.Map * Size.Word + Math.ceil(end / RunMap.Chunk);
}

/** What a run's header says of it, decoded (see `Runs.runAt`). */
export interface RunShape {
  /** Its class. */
  k: number;
  /** Its slot size. */
  slot: number;
  /** Its slot count. */
  count: number;
  /** Its free-slot bits. */
  free: number;
  /** Its handle bits. */
  handles: number;
}

/**
 * The heap engine of a pool with two tiers: runs of slots for small
 * requests, the TLSF tier for the rest and for the runs themselves.
 */
export class Runs extends Tlsf {
  /** Requests up to this size get a slot: Slot.Max, or -1 in a pool without runs. */
  readonly slotMax: number;
  /** Runs lie below this offset; 0 in a pool without runs. */
  readonly mapEnd: number;
  /** Word index of the runs tier's first word. */
  readonly words: number;
  /** Word index of class 0's list head. */
  readonly classHeads: number;
  /** Byte offset of the map. */
  readonly map: number;

  /** As `Tlsf`'s; a pool of RunMap.MinPool bytes or more gets runs. */
  constructor(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, rows: number) {
    const end = byteLength - Size.Sentinel;
    const reserved = runsMetadata(end);
    super(buffer, byteOffset, byteLength, rows, reserved);
    this.words = headsEnd(rows) / Size.Word;
    this.classHeads = this.words + RunsWord.Heads;
    this.map = (this.words + RunsWord.Map) * Size.Word;
    this.mapEnd = reserved === 0 ? 0 : end;
    this.slotMax = reserved === 0 ? -1 : Slot.Max;
    if (reserved !== 0) this.u32[this.words + RunsWord.MapEnd] = end;
  }

  /** Fixed metadata, and the headers and tails of runs that hold a live slot. */
  override get metadataBytes(): number {
    return super.metadataBytes +
      (this.mapEnd === 0 ? 0 : this.u32[this.words + RunsWord.Overhead]!);
  }

  /** Runs in the pool. */
  get runCount(): number {
    return this.mapEnd === 0 ? 0 : this.u32[this.words + RunsWord.Runs]!;
  }

  /** Bytes in the free slots of every run. */
  get slotBytesFree(): number {
    return this.mapEnd === 0 ? 0 : this.u32[this.words + RunsWord.SlotsFree]!;
  }

  // ── allocating ────────────────────────────────────────────────────────────

  /**
   * As `Tlsf.allocate`; a small request gets a slot. The common case is
   * written out here, within the budget of bytecode that V8 inlines; a
   * class with no run, a run about to fill or one that was empty, and
   * damage take `allocateEdge`.
   */
  override allocate(size: number): number {
    if (size > this.slotMax) return super.allocate(size);
    const u32 = this.u32;
    const k = size <= Slot.Min ? 0 : ((size + Slot.Step - 1) >>> Slot.StepLog2) - Slot.ClassBase;
    const run = u32[this.classHeads + k]!;
    const at = (run + RunField.Free) >>> 2;
    const free = u32[at]!;
    const rest = free & (free - 1);
    if (
      run === Value.Nil || rest === 0 || free === u32[(run + RunField.AllFree) >>> 2] ||
      (Build.Checks && u32[(run + RunField.Prev) >>> 2] !== this.classNode(k))
    ) {
      return this.allocateEdge(size, k);
    }
    u32[at] = rest;
    const slot = (k + Slot.ClassBase) << Slot.StepLog2;
    const slotsFree = this.words + RunsWord.SlotsFree;
    u32[slotsFree] = u32[slotsFree]! - slot;
    const used = u32[HeaderWord.BytesUsed]! + slot;
    u32[HeaderWord.BytesUsed] = used;
    if (used > u32[HeaderWord.PeakUsed]!) u32[HeaderWord.PeakUsed] = used;
    this.f64[HeaderF64.Allocations]!++;
    return this.base + run + RunField.Header + (31 - clz32(free ^ rest)) * slot;
  }

  /** `allocate` for a small request off its common case. */
  private allocateEdge(size: number, k: number): number {
    const run = this.u32[this.classHeads + k]!;
    if (run === Value.Nil) return this.allocateSlow(size, k);
    const slot = this.takeSlot(run, k);
    this.account(slotSize(k));
    this.f64[HeaderF64.Allocations]!++;
    return this.base + slot;
  }

  /**
   * Takes the lowest free slot of `run`, the head of class `k`'s list, and
   * returns its offset; the caller counts its bytes as used.
   */
  private takeSlot(run: number, k: number): number {
    const u32 = this.u32;
    const at = (run + RunField.Free) >>> 2;
    const free = u32[at]!;
    const bit = free & -free;
    if (
      Build.Checks &&
      (bit === 0 || u32[(run + RunField.Prev) >>> 2] !== this.classNode(k))
    ) {
      this.damaged(run);
    }
    u32[at] = free ^ bit;
    if (free === u32[(run + RunField.AllFree) >>> 2]) this.runFilling(run);
    if ((free ^ bit) === 0) this.runFull(run, k);
    const slot = (k + Slot.ClassBase) << Slot.StepLog2;
    u32[this.words + RunsWord.SlotsFree] = u32[this.words + RunsWord.SlotsFree]! - slot;
    return run + RunField.Header + (31 - clz32(bit)) * slot;
  }

  /** An empty run gets a live slot: its header and tail become metadata. */
  private runFilling(run: number): void {
    const u32 = this.u32;
    const at = this.words + RunsWord.Overhead;
    u32[at] = u32[at]! + this.overheadOf(run);
  }

  /** Header and tail bytes of `run`. */
  private overheadOf(run: number): number {
    const u32 = this.u32;
    const info = u32[(run + RunField.Info) >>> 2]!;
    const count = (info >>> RunInfo.CountShift) & RunInfo.CountMask;
    const slot = slotSize((info >>> RunInfo.ClassShift) & RunInfo.ClassMask);
    return this.sizeAt(run) - count * slot;
  }

  /** `run`, the head of class `k`'s list, has no free slot left: it leaves the list. */
  private runFull(run: number, k: number): void {
    const u32 = this.u32;
    const next = u32[(run + RunField.Next) >>> 2]!;
    u32[this.classHeads + k] = next;
    if (next !== Value.Nil) u32[(next + RunField.Prev) >>> 2] = this.classNode(k);
    else u32[this.words + RunsWord.Classes]! &= ~(1 << k);
    u32[(run + RunField.Next) >>> 2] = Value.Nil;
    u32[(run + RunField.Prev) >>> 2] = Value.Nil;
  }

  /**
   * The list node of class `k`'s head: the byte offset that head word would
   * have as a run's Next field, so that a list's first run links back to it.
   */
  private classNode(k: number): number {
    return (this.classHeads + k) * Size.Word - RunField.Next;
  }

  /**
   * A small allocation whose class has no run with a free slot: a new run;
   * else a block of the TLSF tier; else a free slot of a larger class; else
   * `failed` (held runs given back, growth).
   */
  private allocateSlow(size: number, k: number): number {
    const slot = this.placeSmall(size, k);
    if (slot === Value.Nil) return this.failed(size, Size.Align);
    this.f64[HeaderF64.Allocations]!++;
    return this.base + slot;
  }

  /**
   * Places `size` bytes (class `k`, whose list is empty) as `allocateSlow`
   * says and counts the bytes used, not the allocation. Returns the
   * payload's offset in the pool, or Nil.
   */
  private placeSmall(size: number, k: number): number {
    const u32 = this.u32;
    let run = u32[this.classHeads + k]!;
    if (run === Value.Nil) run = this.newRun(k);
    if (run !== Value.Nil) {
      const slot = this.takeSlot(run, k);
      this.account(slotSize(k));
      return slot;
    }
    const b = this.take(blockSizeFor(size));
    if (b !== Value.Nil) return this.placed(b);
    const larger = u32[this.words + RunsWord.Classes]! & (~0 << (k + 1));
    if (larger === 0) return Value.Nil;
    const other = 31 - clz32(larger & -larger);
    const slot = this.takeSlot(u32[this.classHeads + other]!, other);
    this.account(slotSize(other));
    return slot;
  }

  /** Seals the TLSF block just taken at `b` as live and counts its bytes; returns its payload's offset. */
  private placed(b: number): number {
    const size = this.sizeAt(b);
    this.u32[(b + UsedField.Check) >>> 2] = checkWord(this.key, b, size);
    this.account(size);
    return b + Size.BlockHeader;
  }

  /** Carves a run of class `k` from the TLSF tier and puts it at the head of its list; Nil if none fits. */
  private newRun(k: number): number {
    const u32 = this.u32;
    const slot = slotSize(k);
    const count = slotsPerRun(k);
    const b = this.take(RunField.Header + count * slot);
    if (b === Value.Nil) return Value.Nil;
    const size = this.sizeAt(b);
    // Only a pool that grew has room past the map: its small blocks come from the TLSF tier there.
    if (b + size > this.mapEnd) {
      this.release(b, u32[b >>> 2]!);
      return Value.Nil;
    }
    const divisor = Math.ceil(2 ** RunInfo.DivShift / slot);
    const info = ((k | (count << (RunInfo.CountShift - RunInfo.ClassShift)) |
      (divisor << (RunInfo.DivisorShift - RunInfo.ClassShift))) << RunInfo.ClassShift) >>> 0;
    const all = count === Slot.MaxPerRun ? 0xffffffff : (1 << count) - 1;
    u32[(b + UsedField.Check) >>> 2] = this.runCheck(b, size, info);
    u32[(b + RunField.Info) >>> 2] = info;
    u32[(b + RunField.Free) >>> 2] = all;
    u32[(b + RunField.Handles) >>> 2] = 0;
    u32[(b + RunField.AllFree) >>> 2] = all;
    this.pushRun(b, k);
    this.mapRun(b, size, true);
    u32[this.words + RunsWord.Runs]!++;
    const at = this.words + RunsWord.SlotsFree;
    u32[at] = u32[at]! + count * slot;
    return b;
  }

  /** The check word of a run at `b` of `size` bytes with `info`: never a block's plain or marked one. */
  runCheck(b: number, size: number, info: number): number {
    return (checkWord(this.key, b, size) ^ imul(info ^ RunInfo.Mark, Value.CheckMul)) >>> 0;
  }

  /** Puts `run` at the head of class `k`'s list; an empty run held there goes back to the TLSF tier. */
  private pushRun(run: number, k: number): void {
    const u32 = this.u32;
    let head = u32[this.classHeads + k]!;
    if (head !== Value.Nil && this.isEmpty(head)) {
      // An empty run is held only as its class's one run.
      this.releaseRun(head, k);
      head = u32[this.classHeads + k]!;
    }
    const node = this.classNode(k);
    if (head === Value.Nil) u32[this.words + RunsWord.Classes]! |= 1 << k;
    else if (Build.Checks && u32[(head + RunField.Prev) >>> 2] !== node) this.damaged(head);
    else u32[(head + RunField.Prev) >>> 2] = run;
    u32[(run + RunField.Next) >>> 2] = head;
    u32[(run + RunField.Prev) >>> 2] = node;
    u32[this.classHeads + k] = run;
  }

  /** Whether every slot of `run` is free. */
  private isEmpty(run: number): boolean {
    const u32 = this.u32;
    return u32[(run + RunField.Free) >>> 2] === u32[(run + RunField.AllFree) >>> 2];
  }

  /** Writes (or with `on` false, clears) the map entries of the run at `b` of `size` bytes. */
  private mapRun(b: number, size: number, on: boolean): void {
    const u8 = this.u8;
    for (let g = b >>> RunMap.ChunkLog2; (g + 1) << RunMap.ChunkLog2 <= b + size; g++) {
      u8[this.map + g] = on ? (((g + 1) << RunMap.ChunkLog2) - b) >>> Slot.StepLog2 : 0;
    }
  }

  // ── finding a slot's run ──────────────────────────────────────────────────

  /**
   * The run that the map says holds offset `rel` (below mapEnd), or Nil.
   * Its header is not checked here.
   */
  private runOf(rel: number): number {
    const u8 = this.u8;
    const g = rel >>> RunMap.ChunkLog2;
    const chunkEnd = (g + 1) << RunMap.ChunkLog2;
    const e = u8[this.map + g]!;
    if (e !== 0 && rel >= chunkEnd - (e << Slot.StepLog2)) return chunkEnd - (e << Slot.StepLog2);
    if (g === 0) return Value.Nil;
    const before = u8[this.map + g - 1]!;
    if (before === 0) return Value.Nil;
    const run = chunkEnd - RunMap.Chunk - (before << Slot.StepLog2);
    return rel < run + this.sizeAt(run) ? run : Value.Nil;
  }

  /** Whether the run at `run` has a header that its check word vouches for. */
  private runIntact(run: number): boolean {
    const u32 = this.u32;
    const h = u32[run >>> 2]!;
    return (h & (Flag.Free | Flag.Unused)) === 0 &&
      u32[(run + UsedField.Check) >>> 2] ===
        this.runCheck(run, (h & ~Flag.Mask) >>> 0, u32[(run + RunField.Info) >>> 2]!);
  }

  /**
   * Index of the slot at `rel` in the intact `run`, or -1 if `rel` is not
   * the start of one of its slots (in the header, inside a slot, in the tail).
   */
  private slotIndex(run: number, rel: number): number {
    const info = this.u32[(run + RunField.Info) >>> 2]!;
    const slot = slotSize((info >>> RunInfo.ClassShift) & RunInfo.ClassMask);
    const d = rel - run - RunField.Header;
    const i = imul(d, info >>> RunInfo.DivisorShift) >>> RunInfo.DivShift;
    return i < ((info >>> RunInfo.CountShift) & RunInfo.CountMask) && i * slot === d ? i : -1;
  }

  /**
   * The run that holds offset `rel`, checked, or Nil when `rel` is in no
   * run; throws `corrupt` when the map leads to a run whose header is damaged.
   */
  private checkedRunOf(rel: number): number {
    if (!(rel >>> 0 === rel && rel < this.mapEnd)) return Value.Nil;
    const run = this.runOf(rel);
    if (run !== Value.Nil && !this.runIntact(run)) this.damaged(run);
    return run;
  }

  // ── freeing ───────────────────────────────────────────────────────────────

  /**
   * As `Tlsf.free`; a slot is known exactly, by its run's bits. The map's
   * entry for the offset's chunk leads to its run in the common case;
   * `freeNear` looks one chunk back.
   */
  override free(payload: number): number {
    const rel = payload - this.base;
    if (rel >>> 0 === rel && rel < this.mapEnd) {
      const g = rel >>> RunMap.ChunkLog2;
      const e = this.u8[this.map + g]!;
      const run = ((g + 1) << RunMap.ChunkLog2) - (e << Slot.StepLog2);
      return e !== 0 && rel >= run ? this.freeSlot(run, rel) : this.freeNear(payload, rel);
    }
    return super.free(payload);
  }

  /** `free` for an offset below the first run start its chunk's map entry gives. */
  private freeNear(payload: number, rel: number): number {
    const run = this.runOf(rel);
    return run === Value.Nil ? super.free(payload) : this.freeSlot(run, rel);
  }

  /**
   * `free` for offset `rel` in the run that the map names `run`: its header
   * checked, the offset a slot's start, the slot live and no `Block`'s.
   */
  private freeSlot(run: number, rel: number): number {
    const u32 = this.u32;
    const h = u32[run >>> 2]!;
    const info = u32[(run + RunField.Info) >>> 2]!;
    if (
      Build.Checks && ((h & (Flag.Free | Flag.Unused)) !== 0 ||
        u32[(run + UsedField.Check) >>> 2] !== this.runCheck(run, (h & ~Flag.Mask) >>> 0, info))
    ) {
      this.damaged(run);
    }
    const slot = (((info >>> RunInfo.ClassShift) & RunInfo.ClassMask) + Slot.ClassBase) <<
      Slot.StepLog2;
    const d = rel - run - RunField.Header;
    const i = imul(d, info >>> RunInfo.DivisorShift) >>> RunInfo.DivShift;
    if (i >= ((info >>> RunInfo.CountShift) & RunInfo.CountMask) || i * slot !== d) {
      return Status.NotABlock;
    }
    const bit = 1 << i;
    const at = (run + RunField.Free) >>> 2;
    const free = u32[at]!;
    if ((free | u32[(run + RunField.Handles) >>> 2]!) & bit) {
      return free & bit ? Status.FreeBlock : Status.NotABlock;
    }
    const now = (free | bit) >>> 0;
    u32[at] = now;
    if (free === 0 || now === u32[(run + RunField.AllFree) >>> 2]) this.freeEdge(run, info, free);
    const slotsFree = this.words + RunsWord.SlotsFree;
    u32[slotsFree] = u32[slotsFree]! + slot;
    u32[HeaderWord.BytesUsed] = u32[HeaderWord.BytesUsed]! - slot;
    this.f64[HeaderF64.Frees]!++;
    return 0;
  }

  /** A slot of `run` was freed: it was full (its free bits were `free`), or it is now empty. */
  private freeEdge(run: number, info: number, free: number): void {
    const k = (info >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    if (free === 0) this.pushRun(run, k);
    if (this.isEmpty(run)) this.runEmptied(run, k);
  }

  /**
   * Frees the live slot `bit` of the intact `run`, whose free bits are
   * `free`, and returns the slot's size; the caller counts the bytes.
   */
  private giveSlot(run: number, free: number, bit: number): number {
    const u32 = this.u32;
    const info = u32[(run + RunField.Info) >>> 2]!;
    const k = (info >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    const now = (free | bit) >>> 0;
    u32[(run + RunField.Free) >>> 2] = now;
    const slot = (k + Slot.ClassBase) << Slot.StepLog2;
    const at = this.words + RunsWord.SlotsFree;
    u32[at] = u32[at]! + slot;
    if (free === 0) this.pushRun(run, k);
    if (now === u32[(run + RunField.AllFree) >>> 2]) this.runEmptied(run, k);
    return slot;
  }

  /**
   * `run` of class `k` lost its last live slot: its header and tail count as
   * free again; it is held if it is its class's one run, else given back.
   */
  private runEmptied(run: number, k: number): void {
    const u32 = this.u32;
    const at = this.words + RunsWord.Overhead;
    u32[at] = u32[at]! - this.overheadOf(run);
    if (u32[this.classHeads + k] !== run || u32[(run + RunField.Next) >>> 2] !== Value.Nil) {
      this.releaseRun(run, k);
    }
  }

  /** Gives the empty `run` of class `k` back to the TLSF tier, merging it with free neighbours. */
  private releaseRun(run: number, k: number): void {
    const u32 = this.u32;
    const next = u32[(run + RunField.Next) >>> 2]!;
    const prev = u32[(run + RunField.Prev) >>> 2]!;
    if (
      Build.Checks && (u32[(prev + RunField.Next) >>> 2] !== run ||
        (next !== Value.Nil && u32[(next + RunField.Prev) >>> 2] !== run))
    ) {
      this.damaged(run);
    }
    const h = u32[run >>> 2]!;
    const size = (h & ~Flag.Mask) >>> 0;
    const count = slotsPerRun(k);
    // The release checks the neighbours before it writes: if it throws, the run is as it was.
    this.release(run, h);
    u32[(prev + RunField.Next) >>> 2] = next;
    if (next !== Value.Nil) u32[(next + RunField.Prev) >>> 2] = prev;
    else if (prev === this.classNode(k)) u32[this.words + RunsWord.Classes]! &= ~(1 << k);
    this.mapRun(run, size, false);
    u32[this.words + RunsWord.Runs]!--;
    const at = this.words + RunsWord.SlotsFree;
    u32[at] = u32[at]! - count * slotSize(k);
  }

  /**
   * Gives back the held empty runs whose room, merged with the free blocks
   * and other held runs around them, holds a block of `need` bytes at
   * `align`: the one place where free bytes the TLSF tier cannot reach are.
   */
  protected override reclaim(need: number, align: number): boolean {
    if (this.mapEnd === 0) return false;
    const u32 = this.u32;
    const want = align <= Size.Align ? need : need + align + Size.Align;
    for (let classes = u32[this.words + RunsWord.Classes]!; classes !== 0; classes &= classes - 1) {
      const run = u32[this.classHeads + 31 - clz32(classes & -classes)]!;
      if (!this.isEmpty(run)) continue;
      const start = this.roomStart(run);
      const end = this.roomEnd(run);
      if (end - start < want) continue;
      for (let all = u32[this.words + RunsWord.Classes]!; all !== 0; all &= all - 1) {
        const k = 31 - clz32(all & -all);
        const held = u32[this.classHeads + k]!;
        if (held >= start && held < end && this.isEmpty(held)) this.releaseRun(held, k);
      }
      return true;
    }
    return false;
  }

  /**
   * Start of the free room around the held empty run `run`: back over free
   * blocks and other held empty runs (found by the map, as a used block
   * has no footer), each of which a reclaim would merge.
   */
  private roomStart(run: number): number {
    const u32 = this.u32;
    let start = run;
    // Free blocks never touch, and each class holds one run at most: the walk is short.
    for (let steps = 0; steps <= 2 * Slot.Classes; steps++) {
      if (u32[start >>> 2]! & Flag.PrevFree) {
        start -= this.footerBefore(start);
        continue;
      }
      const before = start > this.first ? this.runOf(start - 1) : Value.Nil;
      if (before === Value.Nil || !this.runIntact(before) || !this.isHeld(before)) return start;
      start = before;
    }
    return this.damaged(run);
  }

  /** End of the free room around the held empty run `run`, as `roomStart` finds its start. */
  private roomEnd(run: number): number {
    const u32 = this.u32;
    let end = run + this.sizeAt(run);
    for (let steps = 0; steps <= 2 * Slot.Classes; steps++) {
      if (end === u32[HeaderWord.Top]) return this.end;
      const h = u32[end >>> 2]!;
      if (h & Flag.Free) end += this.checkFree(end, h);
      else if (end < this.mapEnd && this.runIntact(end) && this.isHeld(end)) {
        end += this.sizeAt(end);
      } else return end;
    }
    return this.damaged(run);
  }

  /** Whether the intact `run` is empty and held as its class's one run. */
  private isHeld(run: number): boolean {
    const k = (this.u32[(run + RunField.Info) >>> 2]! >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    return this.isEmpty(run) && this.u32[this.classHeads + k] === run;
  }

  /**
   * As `Tlsf.largestFree`, in bytes of free space: with the room that held
   * empty runs would make, and a free slot (its size: a slot has no header).
   */
  override largestFree(): number {
    let largest = super.largestFree();
    if (this.mapEnd === 0) return largest;
    const u32 = this.u32;
    let classes = u32[this.words + RunsWord.Classes]!;
    if (classes !== 0) largest = Math.max(largest, slotSize(31 - clz32(classes)));
    while (classes !== 0) {
      const k = 31 - clz32(classes & -classes);
      classes &= classes - 1;
      const run = u32[this.classHeads + k]!;
      if (this.isEmpty(run)) largest = Math.max(largest, this.roomEnd(run) - this.roomStart(run));
    }
    return largest;
  }

  /** As `Tlsf.largestPayload`, a free slot of the largest class with one included. */
  override largestPayload(): number {
    const classes = this.mapEnd === 0 ? 0 : this.u32[this.words + RunsWord.Classes]!;
    const slot = classes === 0 ? 0 : slotSize(31 - clz32(classes));
    return Math.max(super.largestPayload(), slot);
  }

  // ── looking at a slot ─────────────────────────────────────────────────────

  /** As `Tlsf.liveBlock`, for slots too: their size, or why not. */
  override liveBlock(payload: number, mark = 0): number {
    const rel = payload - this.base;
    if (!(rel >>> 0 === rel && rel < this.mapEnd)) return super.liveBlock(payload, mark);
    const run = this.runOf(rel);
    if (run === Value.Nil) return super.liveBlock(payload, mark);
    if (!this.runIntact(run)) return Status.Damaged;
    const i = this.slotIndex(run, rel);
    if (i < 0) return Status.NotABlock;
    const u32 = this.u32;
    if (u32[(run + RunField.Free) >>> 2]! & (1 << i)) return Status.FreeBlock;
    const owned = (u32[(run + RunField.Handles) >>> 2]! >>> i) & 1;
    if (owned !== (mark === 0 ? 0 : 1)) return Status.NotABlock;
    return slotSize((u32[(run + RunField.Info) >>> 2]! >>> RunInfo.ClassShift) & RunInfo.ClassMask);
  }

  /** As `Tlsf.own`; a slot's handle bit is set. */
  override own(payload: number): void {
    const run = this.checkedRunOf(payload - this.base);
    if (run === Value.Nil) return super.own(payload);
    const bit = 1 << this.slotIndex(run, payload - this.base);
    this.u32[(run + RunField.Handles) >>> 2]! |= bit;
  }

  /** As `Tlsf.disown`; a slot's handle bit is cleared. */
  override disown(payload: number): boolean {
    const rel = payload - this.base;
    const run = this.checkedRunOf(rel);
    if (run === Value.Nil) return super.disown(payload);
    const i = this.slotIndex(run, rel);
    const u32 = this.u32;
    const handles = u32[(run + RunField.Handles) >>> 2]!;
    if (i < 0 || !((handles >>> i) & 1) || (u32[(run + RunField.Free) >>> 2]! >>> i) & 1) {
      return false;
    }
    u32[(run + RunField.Handles) >>> 2] = handles & ~(1 << i);
    return true;
  }

  /**
   * The run whose header is at `b`, decoded, if the block at `b` is an
   * intact run; else null. For the walks of `check()`, `blocks()` and the
   * pictures, not for any hot path.
   */
  runAt(b: number): RunShape | null {
    if (this.mapEnd === 0 || b >= this.mapEnd || !this.runIntact(b)) return null;
    const u32 = this.u32;
    const info = u32[(b + RunField.Info) >>> 2]!;
    const k = (info >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    return {
      k,
      slot: slotSize(k),
      count: (info >>> RunInfo.CountShift) & RunInfo.CountMask,
      free: u32[(b + RunField.Free) >>> 2]!,
      handles: u32[(b + RunField.Handles) >>> 2]!,
    };
  }

  // ── resizing ──────────────────────────────────────────────────────────────

  /** As `Tlsf.resize`; a slot stays while the new size is of its class, else moves. */
  override resize(payload: number, size: number, align: number): number {
    const rel = payload - this.base;
    const run = this.checkedRunOf(rel);
    if (run === Value.Nil) return super.resize(payload, size, align);
    const u32 = this.u32;
    const i = this.slotIndex(run, rel);
    const k = (u32[(run + RunField.Info) >>> 2]! >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    const slot = slotSize(k);
    const aligned = (payload & (align - 1)) === 0;
    if (size <= this.slotMax && classOf(size) === k && aligned) return payload;
    // The peak sees the move's net change only, as a move within the TLSF tier does.
    const peak = u32[HeaderWord.PeakUsed]!;
    let moved = this.placeAnywhere(size, align);
    if (moved === Value.Nil) {
      // A smaller size always fits where the slot is.
      if (size <= slot && aligned) return payload;
      if (
        !((size <= this.maxPayload && this.reclaim(blockSizeFor(size), align)) ||
          (this.onFull !== undefined && this.onFull(size, align) && size <= this.maxPayload))
      ) {
        return 0;
      }
      moved = this.placeAnywhere(size, align);
      if (moved === Value.Nil) return 0;
    }
    this.u8.copyWithin(moved, rel, rel + Math.min(slot, size));
    // Re-read: placing the new block may have filled or emptied this run's list.
    const free = u32[(run + RunField.Free) >>> 2]!;
    this.account(-this.giveSlot(run, free, 1 << i));
    u32[HeaderWord.PeakUsed] = Math.max(peak, u32[HeaderWord.BytesUsed]!);
    return this.base + moved;
  }

  /**
   * Places `size` bytes at `align` in either tier, counting the bytes used;
   * returns the payload's offset in the pool, or Nil.
   */
  private placeAnywhere(size: number, align: number): number {
    if (size <= this.slotMax && align <= Size.Align) return this.placeSmall(size, classOf(size));
    if (size > this.maxPayload) return Value.Nil;
    const need = blockSizeFor(size);
    const b = align <= Size.Align ? this.take(need) : this.takeAligned(need, align);
    return b === Value.Nil ? Value.Nil : this.placed(b);
  }

  /**
   * Throws `PoolError("corrupt")` for the run at `run`, which its header
   * or a map entry or a list link led to, and whose header is damaged.
   */
  private damaged(run: number): never {
    this.assertAttached();
    return corrupt(
      `the run of small blocks at ${
        this.base + run
      } is damaged: its header, a run map entry or a run list link was overwritten`,
    );
  }
}
