import assert from "node:assert/strict";
import { Tier } from "../src/engine/runs.ts";
import {
  Build,
  Flag,
  HeaderF64,
  HeaderWord,
  Size,
  Status,
  UsedField,
  Value,
} from "../src/engine/tlsf.ts";

// runs.ts keeps its own copy of the tlsf.ts constants it reads, so that they are
// inlined there (see `Tier`); every member must equal its original.
const ORIGINALS: Record<keyof typeof Tier, number> = {
  Checks: Build.Checks,
  Nil: Value.Nil,
  CheckMul: Value.CheckMul,
  Free: Flag.Free,
  PrevFree: Flag.PrevFree,
  Unused: Flag.Unused,
  FlagMask: Flag.Mask,
  Top: HeaderWord.Top,
  BytesUsed: HeaderWord.BytesUsed,
  PeakUsed: HeaderWord.PeakUsed,
  Allocations: HeaderF64.Allocations,
  Frees: HeaderF64.Frees,
  Word: Size.Word,
  Align: Size.Align,
  BlockHeader: Size.BlockHeader,
  Sentinel: Size.Sentinel,
  Check: UsedField.Check,
  NotABlock: Status.NotABlock,
  FreeBlock: Status.FreeBlock,
  Damaged: Status.Damaged,
};

Deno.test("runs.ts's copy of the tlsf.ts constants (Tier) equals the originals", () => {
  const members = Object.keys(Tier).filter((key) => Number.isNaN(Number(key)));
  assert.deepEqual(members.sort(), Object.keys(ORIGINALS).sort());
  for (const [name, original] of Object.entries(ORIGINALS)) {
    assert.equal(Tier[name as keyof typeof Tier], original, name);
  }
});
