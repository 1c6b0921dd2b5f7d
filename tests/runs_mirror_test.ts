import assert from "node:assert/strict";
import * as runs from "../src/engine/runs.ts";
import {
  Build,
  Flag,
  FreeField,
  HeaderF64,
  HeaderWord,
  Size,
  Status,
  UsedField,
  Value,
} from "../src/engine/tlsf.ts";

// runs.ts keeps its own copy of the tlsf.ts constants it reads, so that they are
// inlined there (see `Tier`); every member must equal its original.
const ORIGINALS: Record<string, number> = {
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
  FooterFromEnd: FreeField.FooterFromEnd,
  NotABlock: Status.NotABlock,
  FreeBlock: Status.FreeBlock,
  Damaged: Status.Damaged,
};

Deno.test("runs.ts's copy of the tlsf.ts constants (Tier) equals the originals", () => {
  // A const enum is an object at run time too; its reverse mappings have numeric keys.
  const tier = (runs as unknown as Record<string, Record<string, number>>).Tier!;
  const members = Object.keys(tier).filter((key) => Number.isNaN(Number(key)));
  assert.deepEqual(members.sort(), Object.keys(ORIGINALS).sort());
  for (const [name, original] of Object.entries(ORIGINALS)) {
    assert.equal(tier[name], original, name);
  }
});
