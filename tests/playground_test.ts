// The playground in a real browser: Debian's Chromium, installed with apt-get
// when it is missing, drives the page in tests/playground_child.ts (its own
// process, for the permissions Playwright needs). Skipped, saying why, only
// when Chromium cannot be installed.

import assert from "node:assert/strict";

const CHROMIUM = "/usr/bin/chromium";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command, returning why it failed, or null. */
async function run(command: string, args: string[]): Promise<string | null> {
  try {
    const result = await new Deno.Command(command, {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdout: "null",
      stderr: "piped",
    }).output();
    const tail = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-3).join(" ");
    return result.success ? null : `${command} ${args.join(" ")} failed: ${tail}`;
  } catch (error) {
    return `${command} could not run: ${error instanceof Error ? error.message : error}`;
  }
}

/** Why Chromium is not there after trying to install it, or null once it is. */
async function installChromium(): Promise<string | null> {
  if (await exists(CHROMIUM)) return null;
  const uid = await new Deno.Command("id", { args: ["-u"] }).output();
  if (new TextDecoder().decode(uid.stdout).trim() !== "0") {
    return `${CHROMIUM} is missing and only root can install it with apt-get`;
  }
  const why = await run("apt-get", ["update"]) ??
    await run("apt-get", ["install", "-y", "chromium"]);
  if (why !== null) return why;
  return await exists(CHROMIUM) ? null : `apt-get installed chromium, but ${CHROMIUM} is missing`;
}

const missing = await installChromium();
if (missing !== null) console.log(`playground_test skipped: ${missing}`);

Deno.test({
  name: "playground: clicks, churn and a replay in Chromium agree with the library",
  ignore: missing !== null,
  async fn() {
    const outDir = await Deno.makeTempDir({ prefix: "playground-test-" });
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        // Playwright probes /proc files, which Deno opens only with every permission.
        "--allow-all",
        new URL("./playground_child.ts", import.meta.url).pathname,
        outDir,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(child.stdout);
    const err = new TextDecoder().decode(child.stderr);
    console.log(out.trim());
    assert.ok(child.success, `the browser test failed:\n${out}\n${err}`);
    assert.match(out, /screenshot: .*playground\.png/);
  },
});
