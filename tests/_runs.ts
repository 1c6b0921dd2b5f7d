// Test helper: a size class gets runs only once it has had Slot.Warm requests
// (see src/engine/runs.ts); tests that look at slots warm the classes first.

import type { Pool } from "../mod.ts";
import { Slot, slotSize } from "../src/engine/runs.ts";

/**
 * Asks `pool` for Slot.Warm blocks of every slot size, each freed at once,
 * so that every class has its runs from the next request on. Returns `pool`.
 */
export function warmClasses<P extends Pool>(pool: P): P {
  for (let k = 0; k < Slot.Classes; k++) {
    const size = slotSize(k);
    for (let i = 0; i < Slot.Warm; i++) pool.free(pool.alloc(size));
  }
  return pool;
}
