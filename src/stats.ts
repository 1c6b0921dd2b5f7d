/**
 * The snapshot that `Pool.stats()` returns.
 *
 * @module
 */

import {
  ALLOCATIONS_F64,
  BYTES_USED_F64,
  FAILED_F64,
  FREE_BLOCKS_WORD,
  FREES_F64,
  LIVE_BLOCKS_WORD,
  PEAK_USED_F64,
} from "./layout.ts";
import type { Tlsf } from "./tlsf.ts";

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
}

/** Reads a pool's counters into a new `PoolStats`. */
export function readStats(tlsf: Tlsf, metadataBytes: number, largestFreeBlock: number): PoolStats {
  const { u32, f64 } = tlsf;
  const capacity = tlsf.end + 4;
  const bytesUsed = f64[BYTES_USED_F64]!;
  const bytesFree = capacity - metadataBytes - bytesUsed;
  const largestWhole = tlsf.largestFree();
  return {
    capacity,
    metadataBytes,
    bytesUsed,
    bytesFree,
    largestFreeBlock,
    liveBlocks: u32[LIVE_BLOCKS_WORD]!,
    freeBlocks: u32[FREE_BLOCKS_WORD]! + (tlsf.topSize > 0 ? 1 : 0),
    peakBytesUsed: f64[PEAK_USED_F64]!,
    allocations: f64[ALLOCATIONS_F64]!,
    frees: f64[FREES_F64]!,
    failedAllocations: f64[FAILED_F64]!,
    fragmentation: bytesFree > 0 ? 1 - largestWhole / bytesFree : 0,
  };
}
