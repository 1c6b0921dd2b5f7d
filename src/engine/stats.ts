/**
 * The snapshot that `Pool.stats()` returns.
 *
 * @module
 */

import type { Runs } from "./runs.ts";
import { HeaderF64, HeaderWord } from "./tlsf.ts";

/** A pool's counters at one moment. */
export interface PoolStats {
  /** Bytes in the pool's range. */
  capacity: number;
  /** Bytes the pool keeps for itself: header, bitmaps, bin heads, end sentinel. */
  metadataBytes: number;
  /** Bytes held by live blocks, counted whole; `bytesUsed + bytesFree + metadataBytes = capacity`. */
  bytesUsed: number;
  /** Bytes in free blocks, counted whole. */
  bytesFree: number;
  /** The largest size `allocate` can satisfy right now. */
  largestFreeBlock: number;
  /** Blocks allocated and not yet freed. */
  liveBlocks: number;
  /** Free blocks, the top block (the free space at the pool's end) included. */
  freeBlocks: number;
  /** The highest `bytesUsed` ever reached. */
  peakBytesUsed: number;
  /** Successful allocations so far. */
  allocations: number;
  /** Frees so far. */
  frees: number;
  /** Allocations that found no room. */
  failedAllocations: number;
  /**
   * How scattered the free space is: `1 - largest free block / free bytes`,
   * from 0 (all free bytes in one block) towards 1; 0 when nothing is free.
   */
  fragmentation: number;
  /** Runs of small blocks (see `docs/layout.md`); 0 in a pool below 128 KiB, which has none. */
  runs: number;
  /** Bytes in the free slots of every run, counted in `bytesFree`. */
  slotBytesFree: number;
}

/** Reads a pool's counters into a new `PoolStats`. */
export function readStats(tlsf: Runs, largestFreeBlock: number): PoolStats {
  const { u32, metadataBytes } = tlsf;
  const capacity = tlsf.capacity;
  const bytesUsed = u32[HeaderWord.BytesUsed]!;
  const bytesFree = capacity - metadataBytes - bytesUsed;
  const allocations = tlsf.f64[HeaderF64.Allocations]!;
  const frees = tlsf.f64[HeaderF64.Frees]!;
  return {
    capacity,
    metadataBytes,
    bytesUsed,
    bytesFree,
    largestFreeBlock,
    liveBlocks: allocations - frees,
    freeBlocks: u32[HeaderWord.FreeBlocks]! + (tlsf.topSize > 0 ? 1 : 0),
    peakBytesUsed: u32[HeaderWord.PeakUsed]!,
    allocations,
    frees,
    failedAllocations: tlsf.f64[HeaderF64.Failed]!,
    fragmentation: bytesFree > 0 ? 1 - tlsf.largestFree() / bytesFree : 0,
    runs: tlsf.runCount,
    slotBytesFree: tlsf.slotBytesFree,
  };
}
