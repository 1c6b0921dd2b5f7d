/**
 * Debug mode (`new Pool(buffer, { debug: true })`): guard bytes after every
 * payload, a quarantine of poisoned freed blocks, and the allocation site of
 * every live block.
 *
 * It is a layer (see `src/api/layer.ts`): its wrappers go in front of the
 * one pool's prototype, so a pool made without it runs the class's code
 * alone, and a recorder started later sits in front of the wrappers and
 * sees what they see. It registers its installer with the `Pool`
 * constructor when this module loads. The wrappers
 * ask the engine for a few bytes more than each request and fill the rest
 * of the block with a guard pattern; a freed block is filled with a poison
 * pattern and held back, still used in the engine's eyes, until the
 * quarantine grows past an eighth of the pool or an allocation needs its
 * room. Each pattern is verified before the block changes hands and by
 * `check()`.
 *
 * @module
 */

import { Block, moveBlock, retireBlock } from "../api/block.ts";
import { PoolError } from "../common/errors.ts";
import {
  type AllocateOptions,
  isHandleBlock,
  type Pool,
  readAllocateOptions,
} from "../api/pool.ts";
import { type LayerMethods, pushLayer, registerDebugLayer } from "../api/layer.ts";
import { refusalError } from "../api/refusal.ts";
import { MAX_POOL_BYTES, Size, Status, type Tlsf, Value } from "../engine/tlsf.ts";
import { checkAlign, checkCount } from "../common/validate.ts";

/** Debug mode's patterns and sizes. */
const enum Debug {
  /** Guard bytes after every payload, at least: the rest of the block is guard too. */
  Guard = 8,
  /** What every guard byte holds. */
  GuardByte = 0xfd,
  /** What every byte of a quarantined payload holds. */
  PoisonByte = 0xdd,
  /** The quarantine holds at most the pool's bytes shifted right by this (an eighth). */
  QuarantineShift = 3,
}

/**
 * Where a block was allocated or freed: an `Error` made there. V8 records
 * its frames at once but formats them only when `stack` is first read,
 * which is most of the cost, so that waits for a report.
 */
type Site = Error;

/** One live block: its requested size, its usable bytes in the engine, where it was made. */
interface Live {
  size: number;
  capacity: number;
  site: Site;
}

/** One quarantined block. */
interface Freed {
  size: number;
  capacity: number;
  allocated: Site;
  freed: Site;
}

/**
 * The methods through which a call reaches the places where sites are made
 * (the wrappers of allocations and frees). Property names, so minifiers
 * keep them: a bundle's frames still show them.
 */
const ENTRY_NAMES: ReadonlySet<string> = new Set([
  "allocate",
  "alloc",
  "allocateOrThrow",
  "allocOrThrow",
  "deallocate",
  "free",
  "[Symbol.dispose]",
]);

/** The function a stack line names, without receiver or alias: `allocate` for `at Pool.allocate (...)`. */
function frameName(line: string): string {
  const text = line.trim().slice("at ".length);
  const call = text.includes(" (") ? text.slice(0, text.indexOf(" (")) : "";
  return call.replace(/ \[as [^\]]*\]$/, "").replace(/^[\w$]+\./, "");
}

/** Where a stack line's code is, without line and column: a URL or a path. */
function frameFile(line: string): string {
  const at = line.trim();
  const place = at.endsWith(")") ? at.slice(at.lastIndexOf("(") + 1, -1) : at.slice("at ".length);
  return place.replace(/(?::\d+){1,2}$/, "");
}

/**
 * The folder of the library's own modules (its src/) when they run as
 * separate files, as from source or the npm package; undefined in a
 * bundle, where the library shares a file with other code. Found from a
 * stack taken here, on first use: `import.meta.url` would not survive a
 * CommonJS bundle, and in any bundle it is the bundle's file.
 */
let ownFolder: string | undefined | null = null;

function libraryFolder(): string | undefined {
  if (ownFolder === null) {
    const here = (new Error().stack ?? "").split("\n").find((line) => line.includes("at "));
    const file = here === undefined ? "" : frameFile(here);
    const own = /[/\\]debug[/\\]debug_mode\.[cm]?[jt]s$/.exec(file);
    ownFolder = own === null ? undefined : file.slice(0, own.index + 1);
  }
  return ownFolder;
}

/**
 * A site's stack without the allocator's frames, one `at ...` per line. The
 * allocator's frames are the ones on top, down to the user's call: those in
 * its own folder when it has one, otherwise those of the entry methods.
 */
function stackOf(site: Site): string {
  const lines = (site.stack ?? "")
    .split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .map((line) => line.trim());
  const folder = libraryFolder();
  const own = folder === undefined
    ? (line: string) => ENTRY_NAMES.has(frameName(line))
    : (line: string) => frameFile(line).startsWith(folder);
  let user = 0;
  while (user < lines.length && own(lines[user]!)) user++;
  return lines.slice(user).join("\n");
}

/** The first frame of a site's stack, for messages. */
function frameOf(site: Site): string {
  const stack = stackOf(site);
  return stack === "" ? "at an unknown place" : stack.slice(0, (stack + "\n").indexOf("\n"));
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Installs debug mode on `pool`, whose engine is `tlsf`; the pool's
 * constructor calls it for `{ debug: true }`, before any block exists.
 */
function installDebug(pool: Pool, tlsf: Tlsf): void {
  const proto = Object.getPrototypeOf(pool) as Pool;
  // The views are read from the engine at each use: a pool that grows makes them anew.
  const base = tlsf.base;
  const live = new Map<number, Live>();
  // A Map keeps insertion order: its first entry is the oldest.
  const quarantine = new Map<number, Freed>();
  const bound = (tlsf.end + Size.Sentinel) >>> Debug.QuarantineShift;
  let held = 0;

  /**
   * Whether no pool could hold `size` bytes, so that asking for a guard
   * would only change the size the refusal names: more than the pool has,
   * and it cannot grow (nor could any pool, past 4 GiB).
   */
  const hopeless = (size: number): boolean =>
    size > tlsf.maxPayload && (tlsf.onFull === undefined || size >= MAX_POOL_BYTES);

  /** Offset of the first byte in [from, to) (offsets in the buffer) that is not `byte`, or -1. */
  const firstChanged = (from: number, to: number, byte: number): number => {
    const u8 = tlsf.u8;
    for (let i = from - base, end = to - base; i < end; i++) {
      if (u8[i] !== byte) return i + base;
    }
    return -1;
  };

  const checkGuard = (offset: number, block: Live, context: string): void => {
    const at = firstChanged(offset + block.size, offset + block.capacity, Debug.GuardByte);
    if (at < 0) return;
    throw new PoolError(
      "overflow",
      `${context}, the pool found that the ${block.size}-byte block at offset ${offset} was written past its end: offset ${at} (byte ${
        at - offset - block.size + 1
      } past the end) holds ${hex(tlsf.u8[at - base]!)}, not the guard ${
        hex(Debug.GuardByte)
      }. The block was allocated ${frameOf(block.site)}.`,
    );
  };

  const writtenAfterFree = (offset: number, block: Freed, at: number, context: string) =>
    new PoolError(
      "write-after-free",
      `${context}, the pool found that the ${block.size}-byte block at offset ${offset} was written after it was freed: offset ${at} (byte ${
        at - offset
      } of its payload) holds ${hex(tlsf.u8[at - base]!)}, not the poison ${
        hex(Debug.PoisonByte)
      }. The block was allocated ${frameOf(block.allocated)} and freed ${frameOf(block.freed)}.`,
    );

  /** Fills the guard of a block just made, and remembers it. */
  const born = (offset: number, size: number, site: Site): void => {
    // Raw or a Block's: one of the two check words vouches for it.
    const capacity = Math.max(tlsf.liveBlock(offset), tlsf.liveBlock(offset, Value.HandleMark));
    live.set(offset, { size, capacity, site });
    tlsf.u8.fill(Debug.GuardByte, offset - base + size, offset - base + capacity);
  };

  /** Releases the oldest quarantined block to the engine, after verifying its poison. */
  const releaseOldest = (context: string): void => {
    const [offset, block] = quarantine.entries().next().value!;
    quarantine.delete(offset);
    held -= block.capacity + Size.BlockHeader;
    const at = firstChanged(offset, offset + block.capacity, Debug.PoisonByte);
    // Released even when damaged, so that one report does not jam the queue.
    proto.free.call(pool, offset);
    if (at >= 0) throw writtenAfterFree(offset, block, at, context);
  };

  const drain = (context: string): void => {
    while (quarantine.size > 0) releaseOldest(context);
  };

  /**
   * The engine size to ask for `size` bytes: with the guard, unless no pool
   * could hold it anyway. Empties the quarantine first when the engine's
   * largest free block might be too small.
   */
  const reserve = (size: number, align: number, context: string): number => {
    if (hopeless(size)) return size;
    const asked = size + Debug.Guard;
    const slack = align > Size.Align ? align + Size.MinBlock : 0;
    // The top block is read in O(1); the largest binned block may need a walk.
    if (
      quarantine.size > 0 && tlsf.topSize - Size.BlockHeader < asked + slack &&
      proto.largestFreeBlock.call(pool) < asked + slack
    ) {
      drain(context);
    }
    return asked;
  };

  const notLive = (offset: number, what: string, op: string): never => {
    throw refusalError(
      quarantine.has(offset) ? Status.FreeBlock : tlsf.liveBlock(offset),
      what,
      op,
    );
  };

  /** Verifies a live block's guard, poisons it and queues it; `freed` is where it was freed. */
  const retire = (offset: number, what: string, op: string, freed: Site): void => {
    tlsf.assertAttached();
    const block = live.get(offset) ?? notLive(offset, what, op);
    const context = `While trying to ${op} ${what}`;
    checkGuard(offset, block, context);
    // A Block's block too: the quarantine releases it through the raw path.
    tlsf.disown(offset);
    live.delete(offset);
    tlsf.u8.fill(Debug.PoisonByte, offset - base, offset - base + block.capacity);
    quarantine.set(offset, {
      size: block.size,
      capacity: block.capacity,
      allocated: block.site,
      freed,
    });
    held += block.capacity + Size.BlockHeader;
    while (held > bound) releaseOldest(context);
  };

  /**
   * Resizes the live block at `from` to `size` bytes and a guard through
   * `attempt`, which returns the new offset or 0; empties the quarantine
   * and tries again before giving up.
   */
  const reshape = (
    from: number,
    block: Live,
    size: number,
    context: string,
    attempt: (asked: number) => number,
  ): number => {
    checkGuard(from, block, context);
    const asked = hopeless(size) ? size : size + Debug.Guard;
    let to = attempt(asked);
    if (to === 0 && quarantine.size > 0 && !hopeless(asked)) {
      drain(context);
      to = attempt(asked);
    }
    if (to !== 0) {
      live.delete(from);
      born(to, size, block.site);
    }
    return to;
  };

  const isOwnLive = (block: Block): boolean =>
    block instanceof Block && block.pool === pool && block.live;

  const wrappers: Required<LayerMethods> = {
    allocate(size: number, options?: AllocateOptions): Block | null {
      checkCount(size, "size");
      // Read once here and passed on as read: a getter may answer differently later.
      const { align, zero } = readAllocateOptions(options);
      const asked = reserve(size, align, `While trying to allocate ${size} bytes`);
      const block = proto.allocate.call(pool, asked, { align, zero });
      if (block === null) return null;
      moveBlock(block, block.offset, size);
      born(block.offset, size, new Error());
      return block;
    },
    deallocate(block: Block): void {
      // The class's method throws the right error for a block that is not ours and live.
      if (!isOwnLive(block)) return proto.deallocate.call(pool, block);
      retire(block.offset, `the block at offset ${block.offset}`, "deallocate", new Error());
      retireBlock(block);
    },
    resize(block: Block, newLength: number): boolean {
      if (!isOwnLive(block)) return proto.resize.call(pool, block, newLength);
      checkCount(newLength, "newLength");
      tlsf.assertAttached();
      const from = block.offset;
      const what = `the block at offset ${from}`;
      const before = live.get(from) ?? notLive(from, what, "resize");
      const to = reshape(from, before, newLength, `While trying to resize ${what}`, (asked) => {
        return proto.resize.call(pool, block, asked) ? block.offset : 0;
      });
      if (to === 0) return false;
      moveBlock(block, to, newLength);
      return true;
    },
    realloc(offset: number, size: number, align?: number): number {
      // The class's method refuses what is not a number, and a Block's block.
      if (typeof offset !== "number" || isHandleBlock(tlsf, offset)) {
        return proto.realloc.call(pool, offset, size, align);
      }
      tlsf.assertAttached();
      const what = `offset ${offset}`;
      const before = live.get(offset) ?? notLive(offset, what, "realloc");
      checkCount(size, "size");
      if (align !== undefined) checkAlign(align);
      return reshape(offset, before, size, `While trying to realloc ${what}`, (asked) => {
        return proto.realloc.call(pool, offset, asked, align);
      });
    },
    alloc(size: number, align?: number): number {
      checkCount(size, "size");
      if (align !== undefined) checkAlign(align);
      const asked = reserve(size, align ?? Size.Align, `While trying to alloc ${size} bytes`);
      const offset = proto.alloc.call(pool, asked, align);
      if (offset !== 0) born(offset, size, new Error());
      return offset;
    },
    free(offset: number): void {
      if (typeof offset !== "number" || isHandleBlock(tlsf, offset)) {
        return proto.free.call(pool, offset);
      }
      retire(offset, `offset ${offset}`, "free", new Error());
    },
    sizeOf(offset: number): number {
      tlsf.assertAttached();
      if (typeof offset !== "number") return proto.sizeOf.call(pool, offset);
      return (live.get(offset) ?? notLive(offset, `offset ${offset}`, "sizeOf")).size;
    },
    largestFreeBlock(): number {
      tlsf.assertAttached();
      // Releasing the quarantine merges each block with its free neighbours.
      let largest = tlsf.largestFree();
      if (quarantine.size > 0) {
        let run = 0;
        for (const info of proto.blocks.call(pool)) {
          run = info.free || quarantine.has(info.offset) ? run + info.blockSize : 0;
          if (run > largest) largest = run;
        }
      }
      return largest >= Size.MinBlock ? Math.max(0, largest - Size.BlockHeader - Debug.Guard) : 0;
    },
    check(): void {
      proto.check.call(pool);
      for (const [offset, block] of live) checkGuard(offset, block, "In check()");
      for (const [offset, block] of quarantine) {
        const at = firstChanged(offset, offset + block.capacity, Debug.PoisonByte);
        if (at >= 0) throw writtenAfterFree(offset, block, at, "In check()");
      }
      const { liveBlocks } = proto.stats.call(pool);
      if (liveBlocks !== live.size + quarantine.size) {
        throw new PoolError(
          "corrupt",
          `The pool is corrupt: it counts ${liveBlocks} used blocks, but debug mode knows ${live.size} live and ${quarantine.size} quarantined.`,
        );
      }
    },
    leaks(): { offset: number; size: number; stack: string }[] {
      return [...live]
        .map(([offset, block]) => ({ offset, size: block.size, stack: stackOf(block.site) }))
        .sort((a, b) => b.size - a.size || a.offset - b.offset);
    },
  };
  pushLayer(pool, wrappers);
}

registerDebugLayer(installDebug);
