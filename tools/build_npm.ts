// Builds the npm package into npm/ (`deno task build:npm`), or into the
// folder `--out` names: ESM JavaScript
// bundled by esbuild, declarations from TypeScript's compiler, a package.json
// with the entry points deno.json exports, the README and the LICENSE.
//
// esbuild bundles both entries in one build with code splitting, so the
// library exists once (one Pool class, one debug-mode registration) in a
// chunk both import, and, bundling, it replaces every `const enum` member
// with its value across files: the hot paths load no enum object. The build
// fails if any const enum name is left in the JavaScript.

import * as esbuild from "esbuild";
import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url);
const { values: flags } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
const OUT = flags.out === undefined
  ? new URL("npm/", ROOT)
  : new URL(`${flags.out.replace(/\/?$/, "/")}`, `file://${Deno.cwd()}/`);
const TYPES = "types";

const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
};

/** The package's entry points: npm subpath, source file, and the name of its output. */
const entries = Object.entries(config.exports).map(([subpath, source]) => {
  const name = source.replace(/^\.\//, "").replace(/\.ts$/, "");
  return { subpath, source, name };
});

// An earlier build is replaced; any other folder with files in it is left alone.
if (await isOtherFolder(OUT)) throw new Error(`${OUT.pathname} is not empty and not a build.`);
await Deno.remove(OUT, { recursive: true }).catch((e) => {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
});
await Deno.mkdir(OUT);

await esbuild.build({
  absWorkingDir: new URL(".", ROOT).pathname,
  entryPoints: Object.fromEntries(entries.map((e) => [e.name, e.source])),
  outdir: OUT.pathname,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
await esbuild.stop();

const decoder = new TextDecoder();

// Declarations: .d.ts files for every module the entries reach.
const tsc = await new Deno.Command(Deno.execPath(), {
  cwd: new URL(".", ROOT).pathname,
  args: [
    "run",
    "--allow-all",
    `${config.imports.typescript}/tsc`,
    ...entries.map((e) => e.source),
    "--declaration",
    "--emitDeclarationOnly",
    "--outDir",
    new URL(TYPES, OUT).pathname,
    "--rootDir",
    ".",
    "--target",
    "es2022",
    "--module",
    "preserve",
    "--moduleResolution",
    "bundler",
    "--allowImportingTsExtensions",
    "--lib",
    "es2024,esnext.disposable,dom",
    "--strict",
    "--exactOptionalPropertyTypes",
    "--noUncheckedIndexedAccess",
    "--skipLibCheck",
  ],
}).output();
if (tsc.code !== 0) {
  throw new Error(`tsc failed:\n${decoder.decode(tsc.stdout)}${decoder.decode(tsc.stderr)}`);
}

// The declarations keep the sources' `.ts` specifiers; a consumer resolves `.js` to `.d.ts`.
for await (const file of walk(new URL(`${TYPES}/`, OUT))) {
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(
    file,
    text.replace(/((?:from|import)\s*\(?\s*["']\.\.?\/[^"']*)\.ts(["'])/g, "$1.js$2"),
  );
}

// No const enum may survive as an object in the JavaScript.
const enumNames = new Set<string>();
for await (const file of walk(new URL("src/", ROOT))) {
  for (const match of (await Deno.readTextFile(file)).matchAll(/const enum (\w+)/g)) {
    enumNames.add(match[1]!);
  }
}
const leftover = new RegExp(`\\b(${[...enumNames].join("|")})\\d*\\.[A-Z]\\w*`);
for await (const file of walk(OUT)) {
  if (!file.pathname.endsWith(".js")) continue;
  const code = (await Deno.readTextFile(file)).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
  const found = leftover.exec(code);
  if (found) throw new Error(`${file.pathname} reads the const enum member ${found[0]}.`);
}

const packageJson = {
  name: config.name,
  version: config.version,
  description:
    "A constant-time memory allocator (TLSF) over an ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory: malloc and free for JavaScript, with no garbage.",
  license: config.license,
  type: "module",
  engines: { node: ">=20" },
  exports: Object.fromEntries(entries.map((e) => [e.subpath, {
    types: `./${TYPES}/${e.name}.d.ts`,
    default: `./${e.name}.js`,
  }])),
  main: `./${entries[0]!.name}.js`,
  types: `./${TYPES}/${entries[0]!.name}.d.ts`,
  sideEffects: true,
};
await Deno.writeTextFile(new URL("package.json", OUT), JSON.stringify(packageJson, null, 2) + "\n");
for (const file of ["README.md", "LICENSE"]) {
  await Deno.copyFile(new URL(file, ROOT), new URL(file, OUT));
}
console.log(`Built ${config.name}@${config.version} into ${OUT.pathname}.`);

async function isOtherFolder(dir: URL): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) {
      const built = await Deno.readTextFile(new URL("package.json", dir)).catch(() => "{}");
      return JSON.parse(built).name !== config.name;
    }
    return false;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else yield url;
  }
}
