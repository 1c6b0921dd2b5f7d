/**
 * Builds `program.wasm` from `program.c` and `shim.c` with Debian's clang,
 * lld, wasi-libc and libclang-rt-14-dev-wasm32:
 *
 * ```sh
 * apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32
 * deno task build:c-example
 * ```
 *
 * The build is deterministic, so `program.wasm` is committed and a test
 * rebuilds it where the toolchain exists and compares.
 *
 * @module
 */

/** The compiler and its arguments, run in this directory. */
export const BUILD_COMMAND = [
  "clang",
  "--target=wasm32-wasi",
  "--sysroot=/usr",
  "-Os",
  "-Wall",
  "-Wextra",
  "-Werror",
  "program.c",
  "shim.c",
  // The pool starts where the module's data and stack end.
  "-Wl,--export=__heap_base",
  // Debian's wasi-libc carries DWARF; function names stay, for leak stacks.
  "-Wl,--strip-debug",
  "-o",
] as const;

/** Whether clang can build for wasm32-wasi here. */
export async function haveToolchain(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("clang", { args: ["--version"], stdout: "null" })
      .output();
    return success && (await Deno.stat("/usr/lib/wasm32-wasi/libc.a").catch(() => null)) !== null;
  } catch {
    return false;
  }
}

/** Builds the program into `output` (a path); throws with clang's message if it fails. */
export async function buildProgram(output: string): Promise<void> {
  const [command, ...args] = BUILD_COMMAND;
  const { success, stderr } = await new Deno.Command(command, {
    args: [...args, output],
    cwd: new URL(".", import.meta.url).pathname,
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`clang failed:\n${new TextDecoder().decode(stderr)}`);
}

if (import.meta.main) {
  if (!(await haveToolchain())) {
    console.error(
      "clang for wasm32-wasi is missing: apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32",
    );
    Deno.exit(1);
  }
  const output = new URL("program.wasm", import.meta.url).pathname;
  await buildProgram(output);
  console.log(`built ${output}`);
}
