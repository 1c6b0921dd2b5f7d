// The layer rule, read from the import statements themselves: common < engine < api <
// {debug, trace}, each layer importing only from itself and the layers below it.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** What each room of the library may import from. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  "src/common": ["src/common"],
  "src/engine": ["src/common", "src/engine"],
  "src/api": ["src/common", "src/engine", "src/api"],
  // Debug mode wraps Pool's methods (api) and reads block status from the engine.
  "src/debug": ["src/common", "src/engine", "src/api", "src/debug"],
  // The trace tools replay through Pool (api) and size pools with the engine's arithmetic.
  "src/trace": ["src/common", "src/engine", "src/api", "src/trace"],
  // The allocator entry: everything but the trace tooling, which has its own entry.
  "mod.ts": ["src/common", "src/engine", "src/api", "src/debug"],
  // The trace entry publishes the trace layer and nothing else.
  "trace.ts": ["src/trace"],
};

/**
 * Every module specifier in `text`: static imports (including `import type` and bare
 * side-effect imports), `export … from`, and dynamic `import("…")`. Statements start a line;
 * JSDoc examples, whose lines start with `*`, are not code of this file.
 */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const statement = /^(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']/gm;
  const sideEffect = /^import\s*["']([^"']+)["']/gm;
  const dynamic = /^(?!\s*(?:\*|\/\/)).*\bimport\(\s*["']([^"']+)["']/gm;
  for (const pattern of [statement, sideEffect, dynamic]) {
    for (const match of text.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** The room a repository path is in: `src/<layer>`, an entry file, or its top folder. */
function roomOf(path: string): string {
  const parts = path.split("/");
  return parts[0] === "src" && parts.length > 2 ? `src/${parts[1]}` : parts[0]!;
}

/** Repository-relative paths of the `.ts` files under `dir`. */
function tsFilesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(new URL(dir + "/", ROOT))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...tsFilesUnder(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/** The repository path a relative specifier in the file at `from` names. */
function resolve(from: string, specifier: string): string {
  const href = new URL(specifier, new URL(from, ROOT)).href;
  return href.startsWith(ROOT.href) ? href.slice(ROOT.href.length) : "(outside the repository)";
}

/** Each import of the library that breaks the rule, as "file → specifier: why". */
function layerViolations(read: (path: string) => string): string[] {
  const wrong: string[] = [];
  for (const file of [...tsFilesUnder("src"), "mod.ts", "trace.ts"]) {
    const allowed = MAY_IMPORT[roomOf(file)];
    if (allowed === undefined) {
      wrong.push(`${file}: in no layer of the table`);
      continue;
    }
    for (const specifier of specifiers(read(file))) {
      if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
        wrong.push(`${file} → ${specifier}: the library has no dependencies`);
        continue;
      }
      const target = resolve(file, specifier);
      if (!allowed.includes(roomOf(target))) {
        wrong.push(`${file} → ${specifier}: ${roomOf(file)} may not import ${roomOf(target)}`);
      }
    }
  }
  return wrong;
}

const readFile = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

Deno.test("the import scanner finds every kind of import and only imports", () => {
  const text = [
    `import { a } from "./a.ts";`,
    `import type { B } from "../b.ts";`,
    `import "./side.ts";`,
    `import {\n  c,\n  type D,\n} from './c.ts';`,
    `export { e } from "./e.ts";`,
    `export type { F } from "./f.ts";`,
    `export * from "./g.ts";`,
    `const h = await import("./h.ts");`,
    ` * import { Pool } from "@mm/alloc";`,
    `// import { x } from "./commented.ts";`,
    `export const i = "./not-a-specifier.ts";`,
  ].join("\n");
  const expected = ["./a.ts", "../b.ts", "./side.ts", "./c.ts", "./e.ts", "./f.ts", "./g.ts"];
  assert.deepEqual(specifiers(text).sort(), [...expected, "./h.ts"].sort());
});

Deno.test("the library imports only downward: common < engine < api < {debug, trace}", () => {
  assert.deepEqual(layerViolations(readFile), []);
});

Deno.test("the layer check catches an import that goes up or sideways", () => {
  const planted: Record<string, string> = {
    "src/engine/stats.ts": `import { Pool } from "../api/pool.ts";`,
    "src/common/errors.ts": `import type { Tlsf } from "../engine/tlsf.ts";`,
    "src/debug/debug_mode.ts": `import "../trace/recorder.ts";`,
    "src/trace/format.ts": `export { Block } from "../debug/debug_mode.ts";`,
    "src/api/pool.ts": `import { Pool } from "../../mod.ts";`,
    "src/api/block.ts": `import { fuzz } from "../../tools/_fuzz_engine.ts";`,
    "src/api/layer.ts": `import { model } from "../../tests/_model.ts";`,
    "src/api/refusal.ts": `import "../../bench/_peers.ts";`,
    "src/engine/check.ts": `import { recordTrace } from "../../trace.ts";`,
    "src/engine/tlsf.ts": `import fc from "npm:fast-check";`,
    "mod.ts": `export { replayTrace } from "./src/trace/replay.ts";`,
    "trace.ts": `export { Pool } from "./src/api/pool.ts";`,
    "src/api/heap_map.ts": `import "../../../beside/the/repository.ts";`,
  };
  const wrong = layerViolations((path) => readFile(path) + "\n" + (planted[path] ?? ""));
  assert.deepEqual(wrong.map((line) => line.split(" → ")[0]).sort(), Object.keys(planted).sort());
});

/** Files a test names by `new URL("…", import.meta.url)`, as it does to run a script. */
function urlsNamed(text: string): string[] {
  const named = /\bnew URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url/g;
  return [...text.matchAll(named)].map((match) => match[1]!);
}

Deno.test("no test imports from bench/ or runs a script from it", () => {
  const wrong: string[] = [];
  for (const file of tsFilesUnder("tests")) {
    const text = readFile(file);
    for (const specifier of [...specifiers(text), ...urlsNamed(text)]) {
      const target = specifier.startsWith(".") ? resolve(file, specifier) : specifier;
      if (roomOf(target) === "bench") wrong.push(`${file} → ${specifier}`);
    }
  }
  assert.deepEqual(wrong, []);
});
