import assert from "node:assert/strict";
import { minimumPoolSize, parseTrace, type Trace } from "../trace.ts";
import {
  blockUnits,
  FIT_POLICIES,
  type FitPolicy,
  FitSimulator,
  hasAlignedRequests,
  referenceSize,
  replayFits,
} from "../tools/_reference_fits.ts";
import { Size } from "../src/engine/tlsf.ts";
import { Slot } from "../src/engine/runs.ts";
import { OP_ALLOC, OP_FREE } from "../src/trace/format.ts";
import { random } from "./_random.ts";
import { FIXTURES, readFixture } from "./_traces.ts";

const UNIT: number = Size.Align;
const MIN_UNITS = Size.MinBlock / Size.Align;

/** Two holes of 112 and 48 bytes; a 40-byte request goes to the first or the second. */
const FIRST_OR_BEST = "a 0 100\na 1 8\na 2 40\na 3 8\nf 0\nf 2\na 4 40\na 5 100\n";

/**
 * Two 48-byte holes, the higher freed last; a 40-byte request takes one,
 * and only the lower choice lets the next frees merge into an 80-byte hole.
 */
const TIE_BY_ADDRESS = "a 0 40\na 1 8\na 2 40\na 3 8\na 4 40\nf 0\nf 2\na 5 40\nf 1\nf 3\na 6 72\n";

Deno.test("the reference fits size hand-made traces exactly", async (t) => {
  await t.step("first fit splits the lower hole, best fit the closer one", async () => {
    const trace = await parseTrace(FIRST_OR_BEST);
    // Blocks of 112, 16, 48 and 16 bytes: 192 used at the peak.
    for (const policy of ["best-fit", "address-ordered-best-fit"] as const) {
      assert.deepEqual(referenceSize(trace, policy, { tolerance: 0 }), {
        poolSize: 192,
        peakBytesUsed: 192,
        externalFragmentation: 0,
      }, policy);
    }
    // The 100-byte request finds only 64- and 48-byte holes, so the pool needs 112 more.
    assert.deepEqual(referenceSize(trace, "first-fit", { tolerance: 0 }), {
      poolSize: 304,
      peakBytesUsed: 192,
      externalFragmentation: 304 / 192 - 1,
    });
  });

  await t.step("best fit breaks ties by recency, address-ordered best fit by address", async () => {
    const trace = await parseTrace(TIE_BY_ADDRESS);
    // Five blocks of 48, 16, 48, 16 and 48 bytes: 176.
    for (const policy of ["first-fit", "address-ordered-best-fit"] as const) {
      assert.equal(referenceSize(trace, policy, { tolerance: 0 }).poolSize, 176, policy);
    }
    // The 80-byte block finds holes of 64 and 16 bytes only.
    const lifo = referenceSize(trace, "best-fit", { tolerance: 0 });
    assert.equal(lifo.poolSize, 176 + 80);
    assert.equal(lifo.peakBytesUsed, 176);
  });

  await t.step("a trace that only allocates packs into its blocks under every policy", async () => {
    const next = random(7);
    const lines = Array.from({ length: 300 }, (_, id) => `a ${id} ${1 + Math.floor(next() * 500)}`);
    const trace = await parseTrace(lines.join("\n"));
    const ours = minimumPoolSize(trace, { tolerance: 0 });
    for (const policy of FIT_POLICIES) {
      const size = referenceSize(trace, policy, { tolerance: 0 });
      // The same blocks as the library's, so only placement can differ.
      assert.equal(size.peakBytesUsed, ours.peakBytesUsed, policy);
      assert.equal(size.poolSize, size.peakBytesUsed, policy);
    }
  });
});

Deno.test("the fit simulator follows the library's block rules", async (t) => {
  await t.step(
    "a block holds its request, a header and alignment, and is at least a smallest block",
    () => {
      assert.equal(blockUnits(1) * UNIT, Size.MinBlock);
      assert.equal(blockUnits(100) * UNIT, 112);
      assert.equal(blockUnits(104) * UNIT, 112);
      assert.equal(blockUnits(105) * UNIT, 120);
    },
  );

  await t.step("a remainder smaller than a smallest block stays with the block", () => {
    const sim = new FitSimulator("first-fit");
    sim.reset(10);
    assert.equal(sim.alloc(9), 0);
    assert.equal(sim.used, 10);
    assert.equal(sim.alloc(1), -1);
  });

  await t.step("realloc grows in place into a free block after it", () => {
    const sim = new FitSimulator("first-fit");
    sim.reset(40);
    const a = sim.alloc(14);
    sim.release(sim.alloc(2));
    assert.equal(sim.resize(a, 20), a);
    assert.equal(sim.used, 20);
    assert.equal(sim.alloc(4), 20);
  });

  await t.step("realloc moves a block that cannot grow in place, and frees the old one", () => {
    const sim = new FitSimulator("first-fit");
    sim.reset(40);
    const a = sim.alloc(4);
    assert.equal(sim.alloc(2), 4);
    assert.equal(sim.resize(a, 10), 6);
    assert.equal(sim.used, 12);
    assert.equal(sim.alloc(4), 0, "the old block's room is free again");
  });

  await t.step("realloc that finds no room changes nothing", () => {
    const sim = new FitSimulator("best-fit");
    sim.reset(30);
    const a = sim.alloc(10);
    assert.equal(sim.alloc(10), 10);
    assert.equal(sim.resize(a, 12), -1);
    assert.equal(sim.used, 20);
    assert.equal(sim.alloc(10), 20);
  });

  await t.step("realloc shrinks in place, and the tail merges with free space after it", () => {
    const sim = new FitSimulator("first-fit");
    sim.reset(30);
    const a = sim.alloc(20);
    assert.equal(sim.resize(a, 8), a);
    assert.equal(sim.used, 8);
    assert.equal(sim.alloc(22), 8, "the tail and the rest of the pool are one block");
  });

  await t.step("a trace with aligned requests is refused with the operation named", async () => {
    const trace = await parseTrace("a 0 16\na 1 16 64\n");
    assert.equal(hasAlignedRequests(trace), true);
    assert.equal(hasAlignedRequests(await parseTrace("a 0 16 8\n")), false);
    assert.throws(
      () => replayFits(trace, new FitSimulator("first-fit"), 4096),
      { name: "RangeError", message: /operation 1 asks for alignment 64/ },
    );
  });
});

/** A free block of the model: where, how big, and when it was last filed. */
interface ModelBlock {
  start: number;
  units: number;
  free: boolean;
  filed: number;
}

/**
 * The same policies as a plain list of blocks searched in full: slow and
 * obviously right, to check the simulator's trees and lists against.
 */
class ModelFits {
  blocks: ModelBlock[];
  #clock = 0;

  constructor(readonly policy: FitPolicy, units: number) {
    this.blocks = [{ start: 0, units, free: true, filed: 0 }];
  }

  alloc(need: number): number {
    const fits = this.blocks.filter((b) => b.free && b.units >= need);
    if (fits.length === 0) return -1;
    const smallest = Math.min(...fits.map((b) => b.units));
    const closest = fits.filter((b) => b.units === smallest);
    const chosen = this.policy === "first-fit"
      ? fits[0]!
      : this.policy === "address-ordered-best-fit"
      ? closest[0]!
      : closest.reduce((a, b) => (b.filed > a.filed ? b : a));
    this.split(chosen, chosen.units, need);
    return chosen.start;
  }

  release(start: number): void {
    const i = this.blocks.findIndex((b) => b.start === start);
    const block = this.blocks[i]!;
    block.free = true;
    const after = this.blocks[i + 1];
    if (after?.free) {
      block.units += after.units;
      this.blocks.splice(i + 1, 1);
    }
    const before = this.blocks[i - 1];
    if (before?.free) {
      before.units += block.units;
      this.blocks.splice(i, 1);
      before.filed = ++this.#clock;
    } else {
      block.filed = ++this.#clock;
    }
  }

  resize(start: number, need: number): number {
    const i = this.blocks.findIndex((b) => b.start === start);
    const block = this.blocks[i]!;
    if (need <= block.units) {
      if (block.units - need >= MIN_UNITS) {
        const tail = { start: start + need, units: block.units - need, free: false, filed: 0 };
        block.units = need;
        this.blocks.splice(i + 1, 0, tail);
        this.release(tail.start);
      }
      return start;
    }
    const after = this.blocks[i + 1];
    const room = block.units + (after?.free ? after.units : 0);
    if (need > room) {
      const moved = this.alloc(need);
      if (moved !== -1) this.release(start);
      return moved;
    }
    if (room > block.units) this.blocks.splice(i + 1, 1);
    this.split(block, room, need);
    return start;
  }

  used(): number {
    return this.blocks.reduce((sum, b) => (b.free ? sum : sum + b.units), 0);
  }

  split(block: ModelBlock, units: number, need: number): void {
    block.free = false;
    block.units = units;
    if (units - need < MIN_UNITS) return;
    block.units = need;
    const rest = {
      start: block.start + need,
      units: units - need,
      free: true,
      filed: ++this.#clock,
    };
    this.blocks.splice(this.blocks.indexOf(block) + 1, 0, rest);
  }
}

Deno.test("the fit simulator places every block where a full search of the blocks does", async (t) => {
  for (const policy of FIT_POLICIES) {
    await t.step(policy, () => {
      const units = 600;
      const sim = new FitSimulator(policy);
      sim.reset(units);
      const model = new ModelFits(policy, units);
      const next = random(policy.length);
      const live: number[] = [];
      for (let step = 0; step < 3000; step++) {
        const roll = next();
        const need = blockUnits(Math.floor(next() * 200));
        if (live.length > 0 && roll < 0.45) {
          const at = live.splice(Math.floor(next() * live.length), 1)[0]!;
          sim.release(at);
          model.release(at);
        } else if (live.length > 0 && roll < 0.6) {
          const k = Math.floor(next() * live.length);
          const moved = sim.resize(live[k]!, need);
          assert.equal(moved, model.resize(live[k]!, need), `step ${step}`);
          if (moved !== -1) live[k] = moved;
        } else {
          const at = sim.alloc(need);
          assert.equal(at, model.alloc(need), `step ${step}`);
          if (at !== -1) live.push(at);
        }
        assert.equal(sim.used, model.used(), `step ${step}`);
      }
    });
  }
});

/**
 * The part of `trace` that the TLSF tier serves: the lives of the blocks
 * above Slot.Max bytes. A block resized across the tier boundary starts or
 * ends its life in this trace there.
 */
function tlsfTierOnly(trace: Trace): string {
  const { ops, ids, newIds, sizes, aligns } = trace;
  const large = new Uint8Array(trace.idCount);
  const lines = [`# ${trace.description}; the blocks above ${Slot.Max} bytes`];
  for (let i = 0; i < trace.length; i++) {
    const op = ops[i]!;
    const id = ids[i]!;
    const isLarge = op !== OP_FREE && sizes[i]! > Slot.Max;
    const align = aligns[i]! === 0 ? "" : ` ${aligns[i]}`;
    if (op === OP_ALLOC) {
      if (isLarge) lines.push(`a ${id} ${sizes[i]}${align}`);
    } else if (op === OP_FREE) {
      if (large[id]) lines.push(`f ${id}`);
    } else if (large[id] && isLarge) {
      lines.push(`r ${id} ${newIds[i]} ${sizes[i]}${align}`);
    } else if (large[id]) {
      lines.push(`f ${id}`);
    } else if (isLarge) {
      lines.push(`a ${newIds[i]} ${sizes[i]}${align}`);
    }
    large[id] = 0;
    large[newIds[i]!] = isLarge ? 1 : 0;
  }
  return lines.join("\n") + "\n";
}

/**
 * External fragmentation of ours and of each reference fit, on every
 * fixture: as the replay tool's --fits table shows them (`ours`, `fits`),
 * and for the placement comparison (`tier`, `tierFits`, see below).
 */
async function fragmentationOfFixtures() {
  const rows = [];
  for (const f of FIXTURES) {
    const trace = await readFixture(f);
    const ours = minimumPoolSize(trace);
    assert.equal(hasAlignedRequests(trace), f.aligned, f.name);
    const fits = f.aligned
      ? undefined
      : FIT_POLICIES.map((policy) => referenceSize(trace, policy).externalFragmentation);
    const tlsf = f.aligned ? undefined : await parseTrace(tlsfTierOnly(trace));
    const tier = tlsf === undefined ? undefined : minimumPoolSize(tlsf);
    rows.push({
      name: f.name,
      ours: ours.poolSize / ours.peakBytesUsed - 1,
      fits,
      // The simulated pools have no metadata: ours is measured without it too.
      tier: tier === undefined ? undefined : (tier.poolSize - tier.metadataBytes) /
          tier.peakBytesUsed - 1,
      tierFits: tlsf === undefined
        ? undefined
        : FIT_POLICIES.map((policy) => referenceSize(tlsf, policy).externalFragmentation),
    });
  }
  return rows;
}

Deno.test("on the trace fixtures, our good fit against the classic fits", async (t) => {
  const rows = await fragmentationOfFixtures();
  const percent = (x: number) => `${(x * 100).toFixed(2)}%`;

  await t.step("the replay tool's --fits table shows these figures, trace by trace", async () => {
    const script = new URL("../tools/replay.ts", import.meta.url);
    const files = FIXTURES.map((f) => f.url.pathname);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", script.href, "--", "--fits", ...files],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const lines = new TextDecoder().decode(stdout).split("\n");
    const heading = lines.findIndex((line) => /^trace\s+@mm\/alloc\s+first-fit/.test(line));
    assert.ok(heading >= 0, "a table of the policies");
    const cells = (line: string) => line.trim().split(/\s+/);
    const shown = lines.slice(heading + 1, heading + 1 + rows.length).map(cells);
    assert.deepEqual(
      shown,
      rows.map(({ name, ours, fits }) => [
        name,
        percent(ours),
        ...(fits?.map(percent) ?? FIT_POLICIES.map(() => "aligned")),
      ]),
    );
  });

  // The simulated fits place every request as a block with a header, as the
  // TLSF tier does; our small requests go to slots in runs instead, which
  // count no header in bytes used and leave their runs' free slots and
  // headers outside it, so on whole traces the two figures measure
  // different things. What the fits are a yardstick for is the TLSF tier's
  // placement, so they are compared on what it serves: each fixture's
  // blocks above Slot.Max bytes, in pools without their metadata.
  const compared = rows.filter((row) => row.tier !== undefined);
  const mean = (pick: (row: typeof compared[number]) => number) =>
    compared.reduce((sum, row) => sum + pick(row), 0) / compared.length;

  await t.step("on average, as little as best fit or less, by address or by recency", () => {
    const ours = mean((row) => row.tier!);
    for (const [k, policy] of FIT_POLICIES.entries()) {
      if (policy === "first-fit") continue;
      assert.ok(ours <= mean((row) => row.tierFits![k]!), `${percent(ours)} against ${policy}`);
    }
  });

  await t.step("on each trace, within a percentage point of the best of them", () => {
    // The point bounds what good fit gives up to exact best fit, so that a change of placement
    // that loses more fails here (the gaps when the fixtures were cut are in
    // tests/fixtures/README.md).
    for (const { name, tier, tierFits } of compared) {
      const best = Math.min(...tierFits!);
      assert.ok(tier! <= best + 0.01, `${name}: ${percent(tier!)} against ${percent(best)}`);
    }
  });
});
