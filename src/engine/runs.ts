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
import { blockSizeFor, checkWord, headsEnd, Tlsf } from "./tlsf.ts";

/**
 * The members of `tlsf.ts`'s layout enums that this file reads, with their
 * values there. A const enum is inlined only in the file that declares it:
 * imported, each member is a property load at every use, and on the hot
 * paths below that took a third of the time. `tests/runs_mirror_test.ts` checks
 * that every member equals its original.
 */
export const enum Tier {
  /** Build.Checks: 1 in every build that ships (`bench/checks_bench.ts` builds a copy with 0). */
  Checks = 1,
  /** Value.Nil. */
  Nil = 0,
  /** Value.CheckMul. */
  CheckMul = 0x9e3779b1,
  /** Flag.Free. */
  Free = 1,
  /** Flag.PrevFree. */
  PrevFree = 2,
  /** Flag.Unused. */
  Unused = 4,
  /** Flag.Mask. */
  FlagMask = 7,
  /** HeaderWord.Top. */
  Top = 3,
  /** HeaderWord.BytesUsed. */
  BytesUsed = 10,
  /** HeaderWord.PeakUsed. */
  PeakUsed = 11,
  /** HeaderF64.Allocations. */
  Allocations = 6,
  /** HeaderF64.Frees. */
  Frees = 7,
  /** Size.Word. */
  Word = 4,
  /** Size.Align. */
  Align = 8,
  /** Size.BlockHeader. */
  BlockHeader = 8,
  /** Size.Sentinel. */
  Sentinel = 8,
  /** UsedField.Check. */
  Check = 4,
  /** FreeField.FooterFromEnd. */
  FooterFromEnd = 4,
  /** Status.NotABlock. */
  NotABlock = -1,
  /** Status.FreeBlock. */
  FreeBlock = -2,
  /** Status.Damaged. */
  Damaged = -3,
}

// ── layout ────────────────────────────────────────────────────────────────
//
// After the bin heads, a pool of RunMap.MinPool bytes or more keeps the runs
// tier's words and its map:
//
// ┌─────────┬──────┬──────────┬───────────┬────────┬────────────────┬────────────────┬───────────────────────┐
// │ classes │ runs │ overhead │ slotsFree │ mapEnd │ heads (31 u32) │ asked (31 u32) │ map: 1 byte per chunk │
// └─────────┴──────┴──────────┴───────────┴────────┴────────────────┴────────────────┴───────────────────────┘
//
// A run is a used block of the TLSF tier:
//
// ┌────────────┬─────────┬────────┬────────┬─────────┬────────┬────────┬────────┬────────┬─────┬──────┐
// │ size | P   │ check   │ info   │ free   │ handles │ next   │ prev   │ live   │ slot 0 │ ... │ tail │
// └────────────┴─────────┴────────┴────────┴─────────┴────────┴────────┴────────┴────────┴─────┴──────┘
// r            r+4       r+8      r+12     r+16      r+20     r+24     r+28     r+32
//
// info packs the class, the slot count and the reciprocal that divides by
// the slot size; the check word hashes the run's offset, size and info.
// Bit i of `free` is set while slot i is free, of `live` while it is live
// (each slot in exactly one), of `handles` while a `Block` owns it. The
// header and tail count as used while a slot is live. A run with a free
// slot is in its class's list (next, prev; a run pushed at the head gets
// the head node as prev, and a head's prev is never read); a full run is
// in none.
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
  /**
   * Slot bytes a run of slots up to NarrowMax bytes aims at: its slots fill
   * this much, or as near below as whole slots do.
   */
  Target = 768,
  /** The largest slot whose runs aim at Target; larger slots' runs aim at WideTarget. */
  NarrowMax = 64,
  /**
   * Slot bytes a run of slots above NarrowMax bytes aims at, though it always
   * has enough to be longer than a chunk: a shorter run leaves fewer free
   * bytes in a partly used run and fits the holes that blocks leave (on
   * gcc-cc1plus, free blocks of 256 bytes to 1 KiB when its largest request
   * finds no room fell from 114 KB to 69 KB, every class at 608).
   */
  WideTarget = 608,
  /** The most slots a run has: one bit each in a 32-bit word. */
  MaxPerRun = 32,
  /**
   * The smallest free block beside a run just emptied that has the run given
   * back rather than held (see `Runs.bordersFree`). Smaller ones stay walled
   * in: giving runs back for them carves runs far more often (73 000 runs
   * instead of 42 000 on gcc-cc1plus) for little room.
   */
  FreeBeside = 1024,
  /**
   * Requests a class has the TLSF tier serve before it gets runs: a size
   * asked for rarely does not hold a partly used run (on git-log-p, whose
   * few hundred small blocks at its peak are spread over most classes,
   * this took the memory factor from 1.0142 to 1.0064).
   */
  Warm = 2048,
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
  /**
   * Bit i set while slot i is live: with Free, each slot of the run is in
   * exactly one of the two, so that a stray write to either is found before
   * a live slot is handed out again.
   */
  Live = 28,
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
  /**
   * Header and tail bytes of the runs that hold a live slot. They count in
   * the bytes used, as a block's header does: a run is a live block of the
   * TLSF tier, and the pool's metadata stays what it was when it was made.
   */
  Overhead = 2,
  /** Bytes in the free slots of every run. */
  SlotsFree = 3,
  /** Runs lie below this offset: the pool's end when it was made, which the map covers. */
  MapEnd = 4,
  /** The first of Slot.Classes list heads. */
  Heads = 5,
  /**
   * The first of Slot.Classes counts of the small requests a class has had
   * served by the TLSF tier, up to Slot.Warm: a class gets runs once it has
   * had Slot.Warm of them (see `Runs.placeSmall`).
   */
  Asked = Heads + Slot.Classes,
  /** The map's first byte is at this word. */
  Map = Asked + Slot.Classes,
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

/** The bits of every slot of a run whose info word is `info`, as a 32-bit integer. */
function allSlots(info: number): number {
  const count = (info >>> RunInfo.CountShift) & RunInfo.CountMask;
  return count >= Slot.MaxPerRun ? -1 : (1 << count) - 1;
}

/**
 * Requests a class of the pools made from now on has the TLSF tier serve
 * before it gets runs: Slot.Warm, clamped to [0, Slot.Warm]. Not part of
 * the API: the fuzzer and the model-based tests lower it for a pool they
 * make, so that its runs are reached in a few steps, and set it back.
 */
export const warmUp = { requests: Slot.Warm as number };

/** Slots in a run of class `k`. */
export function slotsPerRun(k: number): number {
  const slot = slotSize(k);
  const target = slot <= Slot.NarrowMax ? Slot.Target : Slot.WideTarget;
  // The map finds only runs longer than a chunk.
  const least = Math.floor((RunMap.Chunk - RunField.Header) / slot) + 1;
  return Math.min(Slot.MaxPerRun, Math.max(least, Math.floor(target / slot)));
}

/** The info word of a new run of each class: its class, slot count and divisor (see RunInfo). */
const RUN_INFO = Uint32Array.from({ length: Slot.Classes }, (_, k) => {
  const divisor = Math.ceil(2 ** RunInfo.DivShift / slotSize(k));
  return ((k | (slotsPerRun(k) << (RunInfo.CountShift - RunInfo.ClassShift)) |
    (divisor << (RunInfo.DivisorShift - RunInfo.ClassShift))) << RunInfo.ClassShift) >>> 0;
});

/** The info word every run of class `k` has (`k` below Slot.Classes). */
export function runInfo(k: number): number {
  return RUN_INFO[k]!;
}

/** Bytes of metadata after the bin heads of a pool whose blocks end at `end`: none without runs. */
export function runsMetadata(end: number): number {
  return end + Tier.Sentinel < RunMap.MinPool
    ? 0
    : RunsWord.Map * Tier.Word + Math.ceil(end / RunMap.Chunk);
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
  /** Requests a class has the TLSF tier serve before it gets runs (`warmUp` when made). */
  readonly warmAt: number;

  /** As `Tlsf`'s; a pool of RunMap.MinPool bytes or more gets runs. */
  constructor(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, rows: number) {
    const end = byteLength - Tier.Sentinel;
    const reserved = runsMetadata(end);
    super(buffer, byteOffset, byteLength, rows, reserved);
    this.words = headsEnd(rows) / Tier.Word;
    this.classHeads = this.words + RunsWord.Heads;
    this.map = (this.words + RunsWord.Map) * Tier.Word;
    this.mapEnd = reserved === 0 ? 0 : end;
    this.slotMax = reserved === 0 ? -1 : Slot.Max;
    this.warmAt = Math.min(Slot.Warm, Math.max(0, warmUp.requests));
    if (reserved !== 0) this.u32[this.words + RunsWord.MapEnd] = end;
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
    const live = u32[(run + RunField.Live) >>> 2]!;
    const info = u32[(run + RunField.Info) >>> 2]!;
    // The free and live bits must split the run's slots between them: a bit in both, or in
    // neither, or past the run's slots, is damage, and the slot it names is not to be handed out;
    // so is a head word that names a run of another class, or nothing in the pool (whose words
    // read as undefined, which `free > 0` refuses).
    if (
      run === Tier.Nil ||
      (Tier.Checks &&
        (!(free > 0) || (free & live) !== 0 || ((free | live) ^ allSlots(info)) !== 0 ||
          ((info >>> RunInfo.ClassShift) & RunInfo.ClassMask) !== k))
    ) {
      return this.allocateEdge(size, k);
    }
    // Off its list first: damage found there leaves the run as it was.
    if (rest === 0) this.runFull(run, k);
    if (live === 0) this.runFilling(run);
    u32[at] = rest;
    u32[(run + RunField.Live) >>> 2] = live | (free ^ rest);
    const slot = (k + Slot.ClassBase) << Slot.StepLog2;
    const slotsFree = this.words + RunsWord.SlotsFree;
    u32[slotsFree] = u32[slotsFree]! - slot;
    const used = u32[Tier.BytesUsed]! + slot;
    u32[Tier.BytesUsed] = used;
    if (used > u32[Tier.PeakUsed]!) u32[Tier.PeakUsed] = used;
    this.f64[Tier.Allocations]!++;
    return this.base + run + RunField.Header + (31 - clz32(free ^ rest)) * slot;
  }

  /** `allocate` for a small request off its common case: no run, an empty one, or damage. */
  private allocateEdge(size: number, k: number): number {
    const u32 = this.u32;
    const run = u32[this.classHeads + k]!;
    if (run === Tier.Nil) {
      // A class not yet warm takes the TLSF tier's own path, as long as that finds room.
      const at = this.words + RunsWord.Asked + k;
      const asked = u32[at]!;
      const b = asked < this.warmAt ? this.take(blockSizeFor(size)) : Tier.Nil;
      if (b === Tier.Nil) return this.allocateSlow(size, k);
      u32[at] = asked + 1;
      return this.allocated(b);
    }
    const slot = this.takeSlot(run, k);
    this.account(slotSize(k));
    this.f64[Tier.Allocations]!++;
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
    const live = u32[(run + RunField.Live) >>> 2]!;
    if (
      Tier.Checks &&
      (bit === 0 || !this.runIntact(run) || !this.partitioned(run, free, live) ||
        ((u32[(run + RunField.Info) >>> 2]! >>> RunInfo.ClassShift) & RunInfo.ClassMask) !== k)
    ) {
      this.damaged(run);
    }
    if ((free ^ bit) === 0) this.runFull(run, k);
    if (live === 0) this.runFilling(run);
    u32[at] = free ^ bit;
    u32[(run + RunField.Live) >>> 2] = live | bit;
    const slot = slotSize(k);
    u32[this.words + RunsWord.SlotsFree] = u32[this.words + RunsWord.SlotsFree]! - slot;
    return run + RunField.Header + (31 - clz32(bit)) * slot;
  }

  /** An empty run gets a live slot: its header and tail count as used. */
  private runFilling(run: number): void {
    const u32 = this.u32;
    const at = this.words + RunsWord.Overhead;
    const overhead = this.overheadOf(run);
    u32[at] = u32[at]! + overhead;
    this.account(overhead);
  }

  /** Header and tail bytes of `run`. */
  private overheadOf(run: number): number {
    const u32 = this.u32;
    const info = u32[(run + RunField.Info) >>> 2]!;
    const slots = ((info >>> RunInfo.CountShift) & RunInfo.CountMask) *
      slotSize((info >>> RunInfo.ClassShift) & RunInfo.ClassMask);
    return ((u32[run >>> 2]! & ~Tier.FlagMask) >>> 0) - slots;
  }

  /**
   * `run`, the head of class `k`'s list, has no free slot left: it leaves
   * the list, and the run after it becomes the head. That run's header is
   * not touched: a head's `Prev` is never read (it is unlinked through the
   * head word), and it is checked when it is first allocated from.
   */
  private runFull(run: number, k: number): void {
    const u32 = this.u32;
    const next = u32[(run + RunField.Next) >>> 2]!;
    u32[this.classHeads + k] = next;
    if (next === Tier.Nil) u32[this.words + RunsWord.Classes]! &= ~(1 << k);
    u32[(run + RunField.Next) >>> 2] = Tier.Nil;
    u32[(run + RunField.Prev) >>> 2] = Tier.Nil;
  }

  /**
   * The list node of class `k`'s head: the byte offset that head word would
   * have as a run's Next field, so that a list's first run links back to it.
   */
  private classNode(k: number): number {
    return (this.classHeads + k) * Tier.Word - RunField.Next;
  }

  /**
   * A small allocation whose class has no run with a free slot: a new run;
   * else a block of the TLSF tier; else a free slot of a larger class; else
   * `failed` (held runs given back, growth).
   */
  private allocateSlow(size: number, k: number): number {
    const slot = this.placeSmall(size, k);
    if (slot === Tier.Nil) return this.failed(size, Tier.Align);
    this.f64[Tier.Allocations]!++;
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
    if (run === Tier.Nil && this.warm(k)) run = this.newRun(k);
    if (run !== Tier.Nil) {
      const slot = this.takeSlot(run, k);
      this.account(slotSize(k));
      return slot;
    }
    const b = this.take(blockSizeFor(size));
    if (b !== Tier.Nil) return this.placed(b);
    const larger = u32[this.words + RunsWord.Classes]! & (~0 << (k + 1));
    if (larger === 0) return Tier.Nil;
    const other = 31 - clz32(larger & -larger);
    const slot = this.takeSlot(u32[this.classHeads + other]!, other);
    this.account(slotSize(other));
    return slot;
  }

  /** Whether class `k` has had `warmAt` small requests, counting this one. */
  private warm(k: number): boolean {
    const u32 = this.u32;
    const at = this.words + RunsWord.Asked + k;
    const asked = u32[at]!;
    if (asked >= this.warmAt) return true;
    u32[at] = asked + 1;
    return false;
  }

  /** Seals the TLSF block just taken at `b` as live and counts its bytes; returns its payload's offset. */
  private placed(b: number): number {
    const size = this.sizeAt(b);
    this.u32[(b + Tier.Check) >>> 2] = checkWord(this.key, b, size);
    this.account(size);
    return b + Tier.BlockHeader;
  }

  /** Carves a run of class `k` from the TLSF tier and puts it at the head of its list; Nil if none fits. */
  private newRun(k: number): number {
    const u32 = this.u32;
    const slot = slotSize(k);
    const info = RUN_INFO[k]!;
    const count = (info >>> RunInfo.CountShift) & RunInfo.CountMask;
    const b = this.take(RunField.Header + count * slot);
    if (b === Tier.Nil) return Tier.Nil;
    const size = this.sizeAt(b);
    // Only a pool that grew has room past the map: its small blocks come from the TLSF tier there.
    if (b + size > this.mapEnd) {
      this.release(b, u32[b >>> 2]!);
      return Tier.Nil;
    }
    // A block's header left in these bytes from before would pass for a live block's were the
    // map entry that names the run ever lost: no stale header survives in a run.
    this.u8.fill(0, b + RunField.Header, b + size);
    u32[(b + Tier.Check) >>> 2] = this.runCheck(b, size, info);
    u32[(b + RunField.Info) >>> 2] = info;
    u32[(b + RunField.Free) >>> 2] = allSlots(info);
    u32[(b + RunField.Handles) >>> 2] = 0;
    u32[(b + RunField.Live) >>> 2] = 0;
    this.pushRun(b, k);
    this.mapRun(b, size, true);
    u32[this.words + RunsWord.Runs]!++;
    const at = this.words + RunsWord.SlotsFree;
    u32[at] = u32[at]! + count * slot;
    return b;
  }

  /** The check word of a run at `b` of `size` bytes with `info`: never a block's plain or marked one. */
  private runCheck(b: number, size: number, info: number): number {
    return (checkWord(this.key, b, size) ^ imul(info ^ RunInfo.Mark, Tier.CheckMul)) >>> 0;
  }

  /** Puts `run` at the head of class `k`'s list; an empty run held there goes back to the TLSF tier. */
  private pushRun(run: number, k: number): void {
    const u32 = this.u32;
    let head = u32[this.classHeads + k]!;
    // An empty run is held only as its class's one run.
    if (head !== Tier.Nil && this.isEmpty(head)) head = this.releaseHeld(head, k);
    if (head === Tier.Nil) {
      u32[this.words + RunsWord.Classes]! |= 1 << k;
    } else if (
      Tier.Checks &&
      ((u32[(head + RunField.Info) >>> 2]! >>> RunInfo.ClassShift) & RunInfo.ClassMask) !== k
    ) {
      // isEmpty checked its bits against its info; its class must be this one to be written to.
      this.damaged(head);
    } else {
      u32[(head + RunField.Prev) >>> 2] = run;
    }
    u32[(run + RunField.Next) >>> 2] = head;
    u32[(run + RunField.Prev) >>> 2] = this.classNode(k);
    u32[this.classHeads + k] = run;
  }

  /** Gives back the empty run `head` held by class `k`; returns the class's head after it. */
  private releaseHeld(head: number, k: number): number {
    this.releaseRun(head, k);
    return this.u32[this.classHeads + k]!;
  }

  /** Whether every slot of `run` is free. */
  private isEmpty(run: number): boolean {
    const u32 = this.u32;
    const live = u32[(run + RunField.Live) >>> 2]!;
    if (Tier.Checks && !this.partitioned(run, u32[(run + RunField.Free) >>> 2]!, live)) {
      this.damaged(run);
    }
    return live === 0;
  }

  /** Whether the free bits `free` and live bits `live` of `run` split its slots between them. */
  private partitioned(run: number, free: number, live: number): boolean {
    return (free & live) === 0 &&
      ((free | live) ^ allSlots(this.u32[(run + RunField.Info) >>> 2]!)) === 0;
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
    if (g === 0) return Tier.Nil;
    const before = u8[this.map + g - 1]!;
    if (before === 0) return Tier.Nil;
    const run = chunkEnd - RunMap.Chunk - (before << Slot.StepLog2);
    return rel < run + this.sizeAt(run) ? run : Tier.Nil;
  }

  /** Whether the run at `run` has a header that its check word vouches for. */
  private runIntact(run: number): boolean {
    const u32 = this.u32;
    const h = u32[run >>> 2]!;
    return (h & (Tier.Free | Tier.Unused)) === 0 &&
      u32[(run + Tier.Check) >>> 2] ===
        this.runCheck(run, (h & ~Tier.FlagMask) >>> 0, u32[(run + RunField.Info) >>> 2]!);
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
    if (!(rel >>> 0 === rel && rel < this.mapEnd)) return Tier.Nil;
    const run = this.runOf(rel);
    if (run !== Tier.Nil && !this.runIntact(run)) this.damaged(run);
    return run;
  }

  // ── freeing ───────────────────────────────────────────────────────────────

  /**
   * As `Tlsf.free`; a slot is known exactly, by its run's bits: its run
   * (from the map) checked, the offset a slot's start, the slot live and no
   * `Block`'s. Written as one function, as `allocate` is, to stay within
   * the bytecode V8 inlines; what is rare goes to `freeEdge`.
   */
  override free(payload: number): number {
    const rel = payload - this.base;
    if (!(rel >>> 0 === rel && rel < this.mapEnd)) return super.free(payload);
    const g = rel >>> RunMap.ChunkLog2;
    const entry = this.map + g;
    let run = ((g + 1) << RunMap.ChunkLog2) - (this.u8[entry]! << Slot.StepLog2);
    // The entry names the run that holds the chunk's last byte; one before `rel` is ours.
    if (run > rel || run === (g + 1) << RunMap.ChunkLog2) {
      // With no run over the chunk before either, the offset is the TLSF tier's.
      run = g === 0 || this.u8[entry - 1] === 0 ? Tier.Nil : this.runOf(rel);
      if (run === Tier.Nil) return this.refused(rel, super.free(payload));
    }
    const u32 = this.u32;
    const h = u32[run >>> 2]!;
    const info = u32[(run + RunField.Info) >>> 2]!;
    if (
      Tier.Checks && ((h & (Tier.Free | Tier.Unused)) !== 0 ||
        u32[(run + Tier.Check) >>> 2] !== this.runCheck(run, (h & ~Tier.FlagMask) >>> 0, info))
    ) {
      this.damaged(run);
    }
    const slot = (((info >>> RunInfo.ClassShift) & RunInfo.ClassMask) + Slot.ClassBase) <<
      Slot.StepLog2;
    const d = rel - run - RunField.Header;
    const i = imul(d, info >>> RunInfo.DivisorShift) >>> RunInfo.DivShift;
    if (i >= ((info >>> RunInfo.CountShift) & RunInfo.CountMask) || i * slot !== d) {
      return this.refused(rel, Tier.NotABlock);
    }
    const bit = 1 << i;
    const at = (run + RunField.Free) >>> 2;
    const free = u32[at]!;
    const live = u32[(run + RunField.Live) >>> 2]!;
    if (Tier.Checks && ((free & live) !== 0 || ((free | live) ^ allSlots(info)) !== 0)) {
      this.damaged(run);
    }
    if ((free | u32[(run + RunField.Handles) >>> 2]!) & bit) {
      return this.refused(rel, free & bit ? Tier.FreeBlock : Tier.NotABlock);
    }
    // Linked first: a damaged list head found there leaves the slot as it was.
    if (free === 0) this.pushRun(run, (info >>> RunInfo.ClassShift) & RunInfo.ClassMask);
    u32[at] = free | bit;
    u32[(run + RunField.Live) >>> 2] = live ^ bit;
    if ((live ^ bit) === 0) {
      this.runEmptied(run, (info >>> RunInfo.ClassShift) & RunInfo.ClassMask, free);
    }
    const slotsFree = this.words + RunsWord.SlotsFree;
    u32[slotsFree] = u32[slotsFree]! + slot;
    u32[Tier.BytesUsed] = u32[Tier.BytesUsed]! - slot;
    this.f64[Tier.Frees]!++;
    return 0;
  }

  /**
   * `status`, the refusal of offset `rel` (below mapEnd), unless the map
   * entry of its chunk is damaged: then the offset may have been a live
   * slot that the entry led astray, and the pool is `corrupt`.
   */
  private refused(rel: number, status: number): number {
    return status >= 0 || this.entryIntact(rel) ? status : this.damagedEntry(rel);
  }

  /**
   * Whether the map entry of `rel`'s chunk (below mapEnd) is 0 or names an
   * intact run that holds the chunk's last byte.
   */
  private entryIntact(rel: number): boolean {
    const g = rel >>> RunMap.ChunkLog2;
    const e = this.u8[this.map + g]!;
    const chunkEnd = (g + 1) << RunMap.ChunkLog2;
    const run = chunkEnd - (e << Slot.StepLog2);
    return e === 0 ||
      (run >= this.first && this.runIntact(run) && run + this.sizeAt(run) >= chunkEnd);
  }

  /** Throws `PoolError("corrupt")` for the damaged map entry of `rel`'s chunk. */
  private damagedEntry(rel: number): never {
    this.assertAttached();
    return corrupt(
      `the run map entry for the bytes at ${
        this.base + (rel & ~(RunMap.Chunk - 1))
      } is overwritten: it names no run that holds them`,
    );
  }

  /**
   * Frees the live slot `bit` of the intact `run`, whose free bits are
   * `free`, and returns the slot's size; the caller counts the bytes.
   */
  private giveSlot(run: number, free: number, bit: number): number {
    const u32 = this.u32;
    const info = u32[(run + RunField.Info) >>> 2]!;
    const k = (info >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    const live = u32[(run + RunField.Live) >>> 2]!;
    if (free === 0) this.pushRun(run, k);
    u32[(run + RunField.Free) >>> 2] = free | bit;
    u32[(run + RunField.Live) >>> 2] = live ^ bit;
    // Given back, if emptied, first: damage found there leaves the slot live, as it was.
    if ((live ^ bit) === 0) this.runEmptied(run, k, free);
    const slot = slotSize(k);
    const at = this.words + RunsWord.SlotsFree;
    u32[at] = u32[at]! + slot;
    return slot;
  }

  /**
   * `run` of class `k` lost its last live slot: its header and tail count as
   * free again; it is held if it is its class's one run and borders no large
   * free block but the top one, else given back.
   */
  private runEmptied(run: number, k: number, free: number): void {
    const u32 = this.u32;
    if (!this.isEmpty(run)) return;
    const at = this.words + RunsWord.Overhead;
    const overhead = this.overheadOf(run);
    if (
      u32[this.classHeads + k] !== run || u32[(run + RunField.Next) >>> 2] !== Tier.Nil ||
      this.bordersFree(run)
    ) {
      try {
        this.releaseRun(run, k);
      } catch (error) {
        // Damage stopped the release before it wrote: the slot is live again, as a refused free leaves it.
        u32[(run + RunField.Free) >>> 2] = free;
        u32[(run + RunField.Live) >>> 2] = allSlots(u32[(run + RunField.Info) >>> 2]!) & ~free;
        throw error;
      }
    }
    u32[at] = u32[at]! - overhead;
    u32[Tier.BytesUsed] = u32[Tier.BytesUsed]! - overhead;
  }

  /**
   * Whether the intact `run` borders a free block of Slot.FreeBeside bytes or
   * more other than the top one: held, it would wall that block in, where given
   * back it merges with it. The top block is left out: a held run before it is
   * given back when a request needs the room (`reclaim`), and one small block
   * allocated and freed again and again in a fresh pool then does not carve a
   * run each time. The sizes only steer the choice, so they are read unchecked:
   * a release checks what it merges.
   */
  private bordersFree(run: number): boolean {
    const u32 = this.u32;
    const next = run + this.sizeAt(run);
    const h = u32[next >>> 2]!;
    return ((u32[run >>> 2]! & Tier.PrevFree) !== 0 &&
      u32[(run - Tier.FooterFromEnd) >>> 2]! >= Slot.FreeBeside) ||
      (next !== u32[Tier.Top] && (h & Tier.Free) !== 0 &&
        ((h & ~Tier.FlagMask) >>> 0) >= Slot.FreeBeside);
  }

  /** Gives the empty `run` of class `k` back to the TLSF tier, merging it with free neighbours. */
  private releaseRun(run: number, k: number): void {
    const u32 = this.u32;
    const next = u32[(run + RunField.Next) >>> 2]!;
    const prev = u32[(run + RunField.Prev) >>> 2]!;
    // A head is unlinked through the head word: its own Prev is not kept.
    const head = u32[this.classHeads + k] === run;
    // Its size says which map entries to clear and what to merge: the check word must vouch for it.
    if (
      Tier.Checks &&
      (!this.runIntact(run) || (!head && u32[(prev + RunField.Next) >>> 2] !== run) ||
        (next !== Tier.Nil && u32[(next + RunField.Prev) >>> 2] !== run))
    ) {
      this.damaged(run);
    }
    const h = u32[run >>> 2]!;
    const size = (h & ~Tier.FlagMask) >>> 0;
    const count = (u32[(run + RunField.Info) >>> 2]! >>> RunInfo.CountShift) & RunInfo.CountMask;
    // The release checks the neighbours before it writes: if it throws, the run is as it was.
    this.release(run, h);
    if (head) {
      u32[this.classHeads + k] = next;
      if (next === Tier.Nil) u32[this.words + RunsWord.Classes]! &= ~(1 << k);
    } else {
      u32[(prev + RunField.Next) >>> 2] = next;
      if (next !== Tier.Nil) u32[(next + RunField.Prev) >>> 2] = prev;
    }
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
    const want = align <= Tier.Align ? need : need + align + Tier.Align;
    for (let classes = u32[this.words + RunsWord.Classes]!; classes !== 0; classes &= classes - 1) {
      const run = u32[this.classHeads + 31 - clz32(classes & -classes)]!;
      if (!this.isEmpty(run)) continue;
      // The walks around it start from its size.
      if (!this.runIntact(run)) this.damaged(run);
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
      if (u32[start >>> 2]! & Tier.PrevFree) {
        start -= this.footerBefore(start);
        continue;
      }
      const before = start > this.first ? this.runOf(start - 1) : Tier.Nil;
      if (before === Tier.Nil || !this.runIntact(before) || !this.isHeld(before)) return start;
      start = before;
    }
    return this.damaged(run);
  }

  /** End of the free room around the held empty run `run`, as `roomStart` finds its start. */
  private roomEnd(run: number): number {
    const u32 = this.u32;
    let end = run + this.sizeAt(run);
    for (let steps = 0; steps <= 2 * Slot.Classes; steps++) {
      if (end === u32[Tier.Top]) return this.end;
      const h = u32[end >>> 2]!;
      if (h & Tier.Free) end += this.checkFree(end, h);
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
      if (!this.isEmpty(run)) continue;
      if (!this.runIntact(run)) this.damaged(run);
      largest = Math.max(largest, this.roomEnd(run) - this.roomStart(run));
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
    if (run === Tier.Nil) {
      const status = super.liveBlock(payload, mark);
      return status < 0 && !this.entryIntact(rel) ? Tier.Damaged : status;
    }
    if (!this.runIntact(run)) return Tier.Damaged;
    const i = this.slotIndex(run, rel);
    if (i < 0) return this.entryIntact(rel) ? Tier.NotABlock : Tier.Damaged;
    const u32 = this.u32;
    if (u32[(run + RunField.Free) >>> 2]! & (1 << i)) return Tier.FreeBlock;
    const owned = (u32[(run + RunField.Handles) >>> 2]! >>> i) & 1;
    if (owned !== (mark === 0 ? 0 : 1)) return Tier.NotABlock;
    return slotSize((u32[(run + RunField.Info) >>> 2]! >>> RunInfo.ClassShift) & RunInfo.ClassMask);
  }

  /**
   * As `Tlsf.own`; a slot's handle bit is set. Called just after a placement, when a move has
   * given its old place up: a damaged map entry that leads elsewhere is left for the next
   * operation there to find, as long as what was placed is found by its own checks.
   */
  override own(payload: number): void {
    const rel = payload - this.base;
    const run = this.intactRunAt(rel);
    const i = run === Tier.Nil ? -1 : this.slotIndex(run, rel);
    if (i >= 0) {
      this.u32[(run + RunField.Handles) >>> 2]! |= 1 << i;
    } else if (super.liveBlock(payload) >= 0) {
      super.own(payload);
    } else {
      this.assertAttached();
      corrupt(
        `the block just placed at ${payload} is not found there: the bytes around it were overwritten`,
      );
    }
  }

  /** The intact run the map leads to from offset `rel`, or Nil: a damaged one is not thrown for. */
  private intactRunAt(rel: number): number {
    const run = rel >>> 0 === rel && rel < this.mapEnd ? this.runOf(rel) : Tier.Nil;
    return run !== Tier.Nil && this.runIntact(run) ? run : Tier.Nil;
  }

  /** As `Tlsf.disown`; a slot's handle bit is cleared. */
  override disown(payload: number): boolean {
    const rel = payload - this.base;
    const run = this.checkedRunOf(rel);
    if (run === Tier.Nil) return super.disown(payload);
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

  /**
   * As `Tlsf.resize`; a slot stays while the new size is of its class, else
   * moves; a block that finds no room in the TLSF tier may move to a slot.
   */
  override resize(payload: number, size: number, align: number): number {
    const rel = payload - this.base;
    const run = this.checkedRunOf(rel);
    if (run === Tier.Nil) {
      const moved = super.resize(payload, size, align);
      return moved !== 0 || size > this.slotMax || align > Tier.Align
        ? moved
        : this.blockToSlot(payload, size);
    }
    const u32 = this.u32;
    const i = this.slotIndex(run, rel);
    const k = (u32[(run + RunField.Info) >>> 2]! >>> RunInfo.ClassShift) & RunInfo.ClassMask;
    const slot = slotSize(k);
    const aligned = (payload & (align - 1)) === 0;
    if (size <= this.slotMax && classOf(size) === k && aligned) return payload;
    // The peak sees the move's net change only, as a move within the TLSF tier does.
    const peak = u32[Tier.PeakUsed]!;
    let moved = this.placeAnywhere(size, align);
    if (moved === Tier.Nil) {
      // A smaller size always fits where the slot is.
      if (size <= slot && aligned) return payload;
      if (
        !((size <= this.maxPayload && this.reclaim(blockSizeFor(size), align)) ||
          (this.onFull !== undefined && this.onFull(size, align) && size <= this.maxPayload))
      ) {
        return 0;
      }
      moved = this.placeAnywhere(size, align);
      if (moved === Tier.Nil) return 0;
    }
    this.ownable(moved);
    this.u8.copyWithin(moved, rel, rel + Math.min(slot, size));
    // Re-read, through views made anew if the memory grew: placing the new block may have
    // filled or emptied this run's list, and a grown WebAssembly.Memory leaves `u32` detached.
    const free = this.u32[(run + RunField.Free) >>> 2]!;
    let given: number;
    try {
      given = this.giveSlot(run, free, 1 << i);
    } catch (error) {
      // Giving the run back found damage, and the slot is live again: so is the pool's room.
      this.unplace(moved);
      this.u32[Tier.PeakUsed] = peak;
      throw error;
    }
    this.account(-given);
    this.u32[Tier.PeakUsed] = Math.max(peak, this.u32[Tier.BytesUsed]!);
    return this.base + moved;
  }

  /** Gives back the block that a move placed at `rel` and then could not use, uncounted. */
  private unplace(rel: number): void {
    const run = this.intactRunAt(rel);
    const i = run === Tier.Nil ? -1 : this.slotIndex(run, rel);
    if (i >= 0) {
      this.account(-this.giveSlot(run, this.u32[(run + RunField.Free) >>> 2]!, 1 << i));
      return;
    }
    const b = rel - Tier.BlockHeader;
    this.account(-this.sizeAt(b));
    this.release(b, this.u32[b >>> 2]!);
  }

  /**
   * Moves the live block of the TLSF tier at `payload`, which found no room
   * there to grow to `size` bytes (at most slotMax), to a free slot: its
   * neighbours were checked on the way, so nothing throws after the slot is
   * taken. Returns the new payload's offset in the buffer, or 0.
   */
  private blockToSlot(payload: number, size: number): number {
    const peak = this.u32[Tier.PeakUsed]!;
    const moved = this.placeSmall(size, classOf(size));
    if (moved === Tier.Nil) return 0;
    this.ownable(moved);
    const b = payload - this.toBlock;
    const old = this.sizeAt(b);
    const from = b + Tier.BlockHeader;
    this.u8.copyWithin(moved, from, from + Math.min(old - Tier.BlockHeader, size));
    this.account(-old);
    // Re-read: placing the new block may have changed this one's flags.
    this.release(b, this.u32[b >>> 2]!);
    this.u32[Tier.PeakUsed] = Math.max(peak, this.u32[Tier.BytesUsed]!);
    return this.base + moved;
  }

  /**
   * Throws `corrupt` unless `own` will find the block just placed at `rel`:
   * checked before a move gives the old place up, as the caller owns the
   * new one only after.
   */
  private ownable(rel: number): void {
    const run = this.intactRunAt(rel);
    if (
      (run === Tier.Nil || this.slotIndex(run, rel) < 0) && super.liveBlock(this.base + rel) < 0
    ) {
      this.damaged(rel);
    }
  }

  /**
   * Places `size` bytes at `align` in either tier, counting the bytes used;
   * returns the payload's offset in the pool, or Nil.
   */
  private placeAnywhere(size: number, align: number): number {
    if (size <= this.slotMax && align <= Tier.Align) return this.placeSmall(size, classOf(size));
    if (size > this.maxPayload) return Tier.Nil;
    const need = blockSizeFor(size);
    const b = align <= Tier.Align ? this.take(need) : this.takeAligned(need, align);
    return b === Tier.Nil ? Tier.Nil : this.placed(b);
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
