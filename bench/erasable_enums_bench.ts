// Should the source run under Node.js's type stripping, which refuses
// `const enum`? This bench loads two copies of src/ in one run: one as it is
// (the compiler inlines each const enum member within its file), and one with
// every `const enum` rewritten as the erasable form Node.js accepts, a plain
// `const` object whose members are read as properties. Same churn and
// alloc/free steps through each copy.

import { churnSequence, FIXED_SIZE, LIVE_COUNTS, preChurnSteps, STEP_MASK } from "./_workload.ts";
import { poolBytesFor } from "./_peers.ts";
import { CHURN_JS, copySource } from "../tools/library_copy.ts";

/**
 * The library's churn step, a self-test and an alloc/free step, written as
 * plain JavaScript next to each copy.
 */
const STEPS_JS = `import "./debug/debug_mode.ts";
${CHURN_JS}
export function selfTest() {
  const pool = new Pool(new ArrayBuffer(1 << 16), { debug: true });
  const offsets = [1, 100, 5000, 70000].map((size) => pool.alloc(size % 60000));
  pool.allocate(300, { align: 64 }).free();
  for (const offset of offsets) pool.free(offset);
  pool.check();
  if (pool.bytesUsed() !== 0) throw new Error("The copy does not free what it allocates.");
}

export function allocFree(bytes, size) {
  const pool = new Pool(new ArrayBuffer(bytes));
  return () => pool.free(pool.alloc(size));
}
`;

interface Steps {
  churn(
    bytes: number,
    initialSizes: Uint32Array,
    slots: Uint32Array,
    sizes: Uint32Array,
    warmSteps: number,
    stepMask: number,
  ): () => void;
  allocFree(bytes: number, size: number): () => void;
  selfTest(): void;
}

/**
 * `text` with every `const enum` turned into a `const` object of its members'
 * values, as one would write it for type stripping.
 */
function eraseConstEnums(text: string, known: Map<string, Record<string, number>>): string {
  return text.replace(
    /^(export )?const enum (\w+) \{\n([\s\S]*?)^\}/gm,
    (_, exported: string | undefined, name: string, body: string) => {
      const members: Record<string, number> = {};
      let next = 0;
      const code = body.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      for (const part of code.split(",")) {
        const member = /^\s*(\w+)\s*(?:=\s*([\s\S]+?))?\s*$/.exec(part);
        if (member === null) continue;
        const [, key, init] = member;
        const scope = { ...Object.fromEntries(known), ...members };
        members[key!] = init === undefined
          ? next
          : new Function(...Object.keys(scope), `return (${init});`)(...Object.values(scope));
        next = members[key!]! + 1;
      }
      known.set(name, members);
      return `${exported ?? ""}const ${name} = ${JSON.stringify(members)} as const;`;
    },
  );
}

/** Copies src/ into a temporary folder, erasing const enums if asked, and loads its steps. */
async function copy(erase: boolean): Promise<Steps> {
  const known = new Map<string, Record<string, number>>();
  // The engine's enums first: the other files' enums may refer to its members.
  eraseConstEnums(
    await Deno.readTextFile(new URL("../src/engine/tlsf.ts", import.meta.url)),
    known,
  );
  const base = await copySource(
    `mm-alloc-${erase ? "erasable" : "const-enum"}-`,
    (file, text) => {
      if (!erase) return text;
      const erased = eraseConstEnums(text, known);
      if (/^(export )?const enum /m.test(erased)) {
        throw new Error(`A const enum in ${file} was not erased.`);
      }
      return erased;
    },
  );
  await Deno.writeTextFile(new URL("steps.js", base), STEPS_JS);
  const steps = await import(new URL("steps.js", base).href);
  await Deno.remove(base, { recursive: true });
  steps.selfTest();
  return steps;
}

const copies: [string, Steps][] = [
  ["const enum", await copy(false)],
  ["erasable objects", await copy(true)],
];

for (const [label, steps] of copies) {
  Deno.bench(`${label}: alloc+free ${FIXED_SIZE} B`, {
    group: `alloc+free ${FIXED_SIZE} B`,
    baseline: label === "const enum",
  }, steps.allocFree(poolBytesFor(1), FIXED_SIZE));
}

for (const live of LIVE_COUNTS) {
  const seq = churnSequence(live);
  for (const [label, steps] of copies) {
    Deno.bench(
      `${label}: churn L=${live}`,
      { group: `churn L=${live}`, baseline: label === "const enum" },
      steps.churn(
        poolBytesFor(live),
        seq.initialSizes,
        seq.slots,
        seq.sizes,
        preChurnSteps(live),
        STEP_MASK,
      ),
    );
  }
}
