// Copies of the library's src/, each a module graph of its own: with or
// without the integrity checks (`Build.Checks`), or as a git commit had it,
// so that a bench can compare them in one run without their calls sharing
// compiled code.

/** The files, relative to src/, each with one line that switches the checks on. */
const SWITCH_FILES = ["engine/tlsf.ts", "engine/runs.ts"];
/** That line. */
const SWITCH = /^(\s*)Checks = 1,$/m;

/** A churn step factory, written as plain JavaScript next to each copy it drives. */
export const CHURN_JS = `import { Pool } from "./api/pool.ts";

export function churn(bytes, initialSizes, slots, sizes, warmSteps, stepMask, resizable) {
  const buffer = resizable
    ? new ArrayBuffer(bytes, { maxByteLength: 4 * bytes })
    : new ArrayBuffer(bytes);
  const pool = new Pool(buffer);
  const live = new Uint32Array(initialSizes.length);
  for (let i = 0; i < live.length; i++) live[i] = pool.alloc(initialSizes[i]);
  let k = 0;
  const step = () => {
    const slot = slots[k];
    pool.free(live[slot]);
    live[slot] = pool.alloc(sizes[k]);
    k = (k + 1) & stepMask;
  };
  for (let i = 0; i < warmSteps; i++) step();
  return step;
}
`;

/**
 * Makes a churn step through a copy of the library: free a random block,
 * allocate another; over a resizable buffer (that may grow to 4 times its
 * size) if `resizable`.
 */
export type ChurnFactory = (
  bytes: number,
  initialSizes: Uint32Array,
  slots: Uint32Array,
  sizes: Uint32Array,
  warmSteps: number,
  stepMask: number,
  resizable?: boolean,
) => () => void;

/** What a copy of the library gives a bench. */
export interface LibraryCopy {
  /** The copy's `Pool` class. */
  Pool: typeof import("../mod.ts").Pool;
  /** A churn step factory of its own, so that each copy's calls stay monomorphic. */
  churn: ChurnFactory;
  /**
   * One of the modules the copy was asked to load (`CopyOptions.modules`),
   * by its path relative to src/; `M` is its type, such as
   * `typeof import("../src/trace/replay.ts")`. The copy's own code, so it
   * calls the copy's `Pool` and no other.
   *
   * @throws {Error} If the copy was not asked to load `path`.
   */
  module<M>(path: string): M;
}

/** What a copy of the library loads besides its `Pool` and churn step. */
export interface CopyOptions {
  /** More modules of the copy to import, by path relative to src/, such as "trace/replay.ts". */
  modules?: readonly string[];
}

/**
 * Copies every `.ts` file of src/, every folder of it, into a new temporary
 * folder, each file's text passed through `rewrite` (its path relative to
 * src/, and its text). Returns the folder as a file URL ending in `/`; the
 * caller removes it once it has imported what it needs.
 */
export async function copySource(
  prefix: string,
  rewrite: (path: string, text: string) => string,
): Promise<URL> {
  const src = new URL("../src/", import.meta.url);
  const dir = await Deno.makeTempDir({ prefix });
  const copy = async (path: string): Promise<void> => {
    for await (const entry of Deno.readDir(new URL(path, src))) {
      if (entry.isDirectory) {
        await Deno.mkdir(`${dir}/${path}${entry.name}`);
        await copy(`${path}${entry.name}/`);
      } else if (entry.isFile && entry.name.endsWith(".ts")) {
        const file = `${path}${entry.name}`;
        await Deno.writeTextFile(
          `${dir}/${file}`,
          rewrite(file, await Deno.readTextFile(new URL(file, src))),
        );
      }
    }
  };
  await copy("");
  return new URL(`file://${dir}/`);
}

/**
 * Copies src/ into a new temporary directory, with the integrity checks on
 * or off, and imports it, with `options.modules`. Each copy is a separate
 * module graph.
 */
export async function libraryCopy(
  checks: boolean,
  options: CopyOptions = {},
): Promise<LibraryCopy> {
  const switched = new Set<string>();
  const base = await copySource(`mm-alloc-checks-${checks ? "on" : "off"}-`, (file, text) => {
    if (!SWITCH_FILES.includes(file)) return text;
    if (!SWITCH.test(text)) throw new Error(`src/${file} has no \`Checks = 1,\` line to switch.`);
    switched.add(file);
    return checks ? text : text.replace(SWITCH, "$1Checks = 0,");
  });
  const missing = SWITCH_FILES.filter((file) => !switched.has(file));
  if (missing.length > 0) {
    throw new Error(`src/${missing.join(", src/")} is missing: the checks cannot be switched.`);
  }
  return await load(base, base, options);
}

/**
 * The library as it was at `commit` (its src/, taken with `git archive`),
 * imported as a separate module graph, with `options.modules`: for comparing
 * a change with the code before it in the same run. Null if git or the
 * commit is not there.
 */
export async function libraryAtCommit(
  commit: string,
  options: CopyOptions = {},
): Promise<LibraryCopy | null> {
  const root = new URL("..", import.meta.url).pathname;
  const archive = await new Deno.Command("git", {
    args: ["-C", root, "archive", "--format=tar", commit, "src"],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  if (archive === null || !archive.success) return null;
  const dir = await Deno.makeTempDir({ prefix: `mm-alloc-${commit}-` });
  const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  const writer = tar.stdin.getWriter();
  await writer.write(archive.stdout);
  await writer.close();
  if (!(await tar.status).success) throw new Error(`Could not unpack src/ of ${commit}.`);
  return await load(new URL(`file://${dir}/src/`), new URL(`file://${dir}/`), options);
}

/**
 * Imports the copy of src/ at `base` (its `Pool`, the churn step written
 * next to it, and `options.modules`), then removes `dir`, which holds it:
 * the modules are loaded whole, so their files are no longer needed.
 */
async function load(base: URL, dir: URL, options: CopyOptions): Promise<LibraryCopy> {
  const modules = new Map<string, unknown>();
  let Pool: LibraryCopy["Pool"];
  let churn: ChurnFactory;
  try {
    await Deno.writeTextFile(new URL("churn.js", base), CHURN_JS);
    ({ Pool } = await import(new URL("api/pool.ts", base).href));
    ({ churn } = await import(new URL("churn.js", base).href));
    for (const path of options.modules ?? []) {
      modules.set(path, await import(new URL(path, base).href));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return {
    Pool,
    churn,
    module<M>(path: string): M {
      if (!modules.has(path)) throw new Error(`The copy did not load src/${path}.`);
      return modules.get(path) as M;
    },
  };
}
