// The "how it works" demos: each sets a session's pool up so that one idea
// can be seen in the live picture, and says what to look at.

import type { Session } from "./session.ts";
import { Size } from "../../src/engine/tlsf.ts";

/** A demo's pool, set up: what the page says about it and the blocks it points at. */
export interface Scenario {
  /** One or two sentences on what the pool now shows, with its real figures. */
  text: string;
  /** Payload offsets of blocks to outline. */
  highlight: number[];
}

const HEADER: number = Size.BlockHeader;
/** The free holes of the first demo: 6 blocks of 512 bytes, 3 KiB. */
const HOLE_PAYLOAD = 512 - HEADER;
const HOLES = 6;
const SPACER_PAYLOAD = 128 - HEADER;
const NO_ROOM_POOL = 8192;
const BINS_POOL = 16384;
const MERGE_POOL = 4096;
/** Whole sizes of the second demo's free blocks: two of them share bin (2, 30). */
const BIN_DEMO_SIZES = [48, 200, 520, 600, 992, 1000, 3000];
const GUARD_PAYLOAD = 24;

/** Why allocate(1024) fails with 3 KiB free: the free bytes are in holes of 512. */
export function noRoom(session: Session): Scenario {
  session.reset(NO_ROOM_POOL);
  const holes: number[] = [];
  for (;;) {
    const hole = session.allocate(HOLE_PAYLOAD);
    if (hole === 0 || session.allocate(SPACER_PAYLOAD) === 0) break;
    holes.push(hole);
  }
  // Use up every byte left, so that only the holes are free.
  for (
    let left = session.pool.largestFreeBlock();
    left > 0;
    left = session.pool.largestFreeBlock()
  ) {
    if (session.allocate(left) === 0) break;
  }
  const freed = holes.slice(0, HOLES);
  for (const hole of freed) session.free(hole);
  const free = session.pool.bytesFree();
  const largest = session.pool.largestFreeBlock();
  session.allocate(1024);
  return {
    text:
      `${free} bytes are free, but in ${HOLES} separate blocks of 512 bytes (pink), each with ` +
      `an 8-byte header: the largest request any of them can hold is ${largest} bytes. ` +
      `allocate(1024) needs one block of 1 032 bytes, so it returned null. ` +
      `Free one of the small green blocks between two pink ones, and it fits.`,
    highlight: freed,
  };
}

/** Free blocks of several sizes, each filed in the bin of its size class. */
export function bins(session: Session): Scenario {
  session.reset(BINS_POOL);
  const holes = BIN_DEMO_SIZES.map((size) => {
    const hole = session.allocate(size - HEADER);
    session.allocate(GUARD_PAYLOAD);
    return hole;
  });
  for (const hole of holes) session.free(hole);
  return {
    text:
      `${holes.length} free blocks of ${BIN_DEMO_SIZES.join(", ")} bytes, kept apart by small ` +
      `used blocks. Hover over one: the tooltip names its bin, and the bins table lists each ` +
      `non-empty bin. 992 and 1 000 share bin (2, 30), which holds 992 to 1 007 bytes.`,
    highlight: holes,
  };
}

/** Three neighbours, the outer two free: freeing the middle one makes one block of all three. */
export function merge(session: Session): Scenario & { middle: number } {
  session.reset(MERGE_POOL);
  const left = session.allocate(200);
  const middle = session.allocate(300);
  const right = session.allocate(200);
  session.allocate(GUARD_PAYLOAD);
  session.free(left);
  session.free(right);
  return {
    text:
      `The used block at ${
        middle - HEADER
      } (outlined) sits between two free blocks. Its header's P ` +
      `flag says the block before it is free, and that block's footer gives where it starts; ` +
      `the header after it has the F flag. Free it (click it, or the button) and all three ` +
      `become one free block, filed in the bin of the sum of their sizes.`,
    highlight: [middle],
    middle,
  };
}
