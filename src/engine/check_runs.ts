/**
 * The runs tier's part of `Pool.check()`: every run's header, the map, the
 * class lists and the tier's counters, against what the runs found by the
 * block walk say.
 *
 * @module
 */

import { corrupt } from "../common/errors.ts";
import { RunField, runInfo, RunMap, type Runs, RunsWord, Slot } from "./runs.ts";
import { Size, Value } from "./tlsf.ts";

/** Bytes and slots in use in the runs checked. */
export interface RunsInUse {
  /** Bytes of live slots. */
  used: number;
  /** Live slots. */
  live: number;
}

/**
 * Checks the runs at the offsets in `found` (each a used block whose check
 * word is a run's) and everything the tier keeps about them; returns what
 * their slots hold. Throws `PoolError("corrupt")` at the first broken invariant.
 */
export function checkRuns(runs: Runs, found: readonly number[]): RunsInUse {
  if (runs.mapEnd === 0) return { used: 0, live: 0 };
  const { u32, u8, words, classHeads, map, mapEnd } = runs;
  if (u32[words + RunsWord.MapEnd] !== mapEnd) corrupt("the run map's end word is overwritten");
  const entries = new Uint8Array(Math.ceil(mapEnd / RunMap.Chunk));
  const withRoom = new Set<number>();
  let used = 0;
  let live = 0;
  let overhead = 0;
  let slotsFree = 0;
  for (const run of found) {
    const shape = runs.runAt(run)!;
    const { k, slot, count, free, handles } = shape;
    const size = runs.sizeAt(run);
    const info = u32[(run + RunField.Info) >>> 2]!;
    if (k >= Slot.Classes || info !== runInfo(k)) {
      corrupt(`the run at ${run} has an impossible class or slot count`);
    }
    const slots = RunField.Header + count * slot;
    if (size < slots || size >= slots + Size.MinBlock || run + size > mapEnd) {
      corrupt(`the run at ${run} has an impossible size, ${size}`);
    }
    const all = count === Slot.MaxPerRun ? 0xffffffff : (1 << count) - 1;
    if (
      u32[(run + RunField.Live) >>> 2] !== ((all & ~free) >>> 0) || (free & ~all) !== 0 ||
      (handles & ~all) !== 0 || (handles & free) !== 0
    ) {
      corrupt(`the run at ${run} has slot bits beyond its slots, or a free slot a Block owns`);
    }
    const freeSlots = bitCount(free);
    used += (count - freeSlots) * slot;
    live += count - freeSlots;
    slotsFree += freeSlots * slot;
    // A run that holds a live slot counts its header and tail as used, as a block its header.
    if (freeSlots < count) {
      overhead += size - count * slot;
      used += size - count * slot;
    }
    if (free !== 0) {
      withRoom.add(run);
    } else if (
      u32[(run + RunField.Next) >>> 2] !== Value.Nil ||
      u32[(run + RunField.Prev) >>> 2] !== Value.Nil
    ) {
      corrupt(`the full run at ${run} is still linked in a list`);
    }
    for (let g = run >>> RunMap.ChunkLog2; (g + 1) * RunMap.Chunk <= run + size; g++) {
      entries[g] = ((g + 1) * RunMap.Chunk - run) / Slot.Step;
    }
  }
  for (let g = 0; g < entries.length; g++) {
    if (u8[map + g] !== entries[g]) {
      corrupt(`the run map's entry for bytes ${g * RunMap.Chunk}+ is overwritten`);
    }
  }

  const classes = u32[words + RunsWord.Classes]!;
  for (let k = 0; k < Slot.Classes; k++) {
    let run = u32[classHeads + k]!;
    if (((classes >>> k) & 1) !== (run !== Value.Nil ? 1 : 0)) {
      corrupt(`the class bitmap disagrees with the list of class ${k}`);
    }
    let prev = (classHeads + k) * Size.Word - RunField.Next;
    let empty = 0;
    let listed = 0;
    for (; run !== Value.Nil; run = u32[(run + RunField.Next) >>> 2]!) {
      if (!withRoom.delete(run)) {
        corrupt(
          `the list of class ${k} holds ${run}, which is not a run with a free slot, or twice`,
        );
      }
      const shape = runs.runAt(run)!;
      if (shape.k !== k) {
        corrupt(`the run at ${run}, of class ${shape.k}, is in the list of class ${k}`);
      }
      // A list's first run is unlinked through the head word: its back link is not kept.
      if (listed > 0 && u32[(run + RunField.Prev) >>> 2] !== prev) {
        corrupt(`the run at ${run} has a wrong back link`);
      }
      if (u32[(run + RunField.Live) >>> 2] === 0) empty++;
      listed++;
      prev = run;
    }
    if (empty > 0 && listed > 1) corrupt(`class ${k} holds an empty run beside others`);
  }
  if (withRoom.size > 0) {
    corrupt(`the run at ${withRoom.values().next().value} has a free slot but is in no list`);
  }

  for (let k = 0; k < Slot.Classes; k++) {
    if (u32[words + RunsWord.Asked + k]! > Slot.Warm) {
      corrupt(`the count of requests of class ${k} is overwritten`);
    }
  }

  const counters: [RunsWord, number, string][] = [
    [RunsWord.Runs, found.length, "runs"],
    [RunsWord.Overhead, overhead, "bytes of run headers"],
    [RunsWord.SlotsFree, slotsFree, "bytes in free slots"],
  ];
  for (const [word, actual, what] of counters) {
    if (u32[words + word] !== actual) {
      corrupt(`it counts ${u32[words + word]} ${what}, not ${actual}`);
    }
  }
  return { used, live };
}

/** Set bits of a 32-bit value. */
function bitCount(bits: number): number {
  let n = 0;
  for (let rest = bits >>> 0; rest !== 0; rest = (rest & (rest - 1)) >>> 0) n++;
  return n;
}
