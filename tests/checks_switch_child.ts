// Run by checks_switch_test.ts with --allow-read --allow-write: frees a forged
// offset through a copy of the library with the integrity checks on, and
// through one with them off, and prints how each call ended.

import { libraryCopy } from "../tools/library_copy.ts";

for (const checks of [true, false]) {
  const { Pool } = await libraryCopy(checks);
  const pool = Pool.create(4096);
  const payload = pool.alloc(100);
  pool.alloc(8);
  // A used 16-byte block at payload + 16, as far as its size word tells.
  const u32 = new Uint32Array(pool.buffer);
  u32[(payload + 8) >>> 2] = 16;
  u32[(payload + 12) >>> 2] = 0;
  let outcome = "accepted";
  try {
    pool.free(payload + 16);
  } catch (error) {
    outcome = (error as { code?: string }).code ?? String(error);
  }
  console.log(`checks ${checks ? "on" : "off"}: ${outcome}`);
}
