// The browser half of playground_test.ts, run in its own process because
// Playwright needs permissions (environment, system, network) that the test
// suite does not grant. It serves the playground, drives Debian's Chromium
// through it, and exits non-zero with the failed assertion if anything is off.
// Argument: the directory for the screenshot.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { chromium, type Page } from "playwright-core";
import { Pool, type PoolStats } from "../mod.ts";
import { parseTrace, replayTrace } from "../trace.ts";
import { startPlayground } from "../tools/playground/serve.ts";

const CHROMIUM = "/usr/bin/chromium";
const POOL_BYTES = 65536;
const CHURN_MS = 1000;
const REPLAY_TIMEOUT_MS = 20_000;
/** Where the screenshot's replay pauses. */
const PAUSE_AT = 3000;

/** What the page's hook answers (see tools/playground/page/main.ts). */
interface Hook {
  session: {
    pool: Pool;
    replay: { position: number; done: boolean; failed: boolean; trace: { length: number } } | null;
    stats(): PoolStats;
  };
  figures(): Record<string, number>;
  blockCentre(offset: number): { x: number; y: number };
  settled(): boolean;
}

declare const playground: Hook;

/** The text of an element once the page has drawn everything that happened. */
async function text(page: Page, selector: string): Promise<string> {
  await page.waitForFunction(() => playground.settled());
  return await page.textContent(selector) ?? "";
}

/** The page's figures once it has drawn everything that happened. */
async function figures(page: Page): Promise<Record<string, number>> {
  await page.waitForFunction(() => playground.settled());
  return await page.evaluate(() => playground.figures());
}

/** The figures the page shows for a pool, from the library's own stats. */
function expected(stats: PoolStats): Record<string, number> {
  return {
    used: stats.bytesUsed,
    free: stats.bytesFree,
    largest: stats.largestFreeBlock,
    frag: stats.fragmentation,
    peak: stats.peakBytesUsed,
    live: stats.liveBlocks,
    capacity: stats.capacity,
  };
}

const outDir = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "playground-" });
const profile = await Deno.makeTempDir({ prefix: "playground-profile-" });
const server = await startPlayground(0);
// A fresh profile per run: Playwright passes it as --user-data-dir.
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  viewport: { width: 1400, height: 1000 },
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(server.url);
  await page.waitForFunction(() => "playground" in globalThis);

  // Allocate three blocks by clicking, then free the middle one by clicking it.
  const pool = Pool.create(POOL_BYTES);
  const sizes = [100, 3000, 250];
  const offsets: number[] = [];
  for (const size of sizes) {
    await page.fill("#alloc-size", String(size));
    await page.click("#alloc");
    offsets.push(pool.alloc(size));
  }
  assert.deepEqual(await figures(page), expected(pool.stats()));
  const middle = offsets[1]!;
  const at = await page.evaluate((offset) => playground.blockCentre(offset), middle);
  await page.mouse.move(at.x, at.y);
  assert.match(await text(page, "#tooltip"), /used block · 3,008 bytes/);
  await page.mouse.click(at.x, at.y);
  pool.free(middle);
  assert.deepEqual(await figures(page), expected(pool.stats()));
  // Hovering the hole it left shows its bin.
  await page.mouse.move(at.x, at.y);
  assert.match(
    await text(page, "#tooltip"),
    /free block · 3,008 bytes[^]*bin \(4, 15\)/,
  );

  // Select the last block by clicking, then resize it from the controls.
  await page.selectOption("#click-mode", "select");
  const last = offsets[2]!;
  const lastAt = await page.evaluate((offset) => playground.blockCentre(offset), last);
  await page.mouse.click(lastAt.x, lastAt.y);
  assert.match(await text(page, "#selected"), /250 bytes asked for/);
  await page.fill("#resize-size", "4000");
  await page.click("#resize-selected");
  assert.notEqual(pool.realloc(last, 4000), 0);
  assert.deepEqual(await figures(page), expected(pool.stats()));
  await page.selectOption("#click-mode", "free");

  // An uploaded trace, stepped through one operation at a time.
  const uploaded = "# uploaded\na 0 100\na 1 5000\nf 0\nr 1 1 9000\n";
  await page.setInputFiles("#upload", {
    name: "mine.trace",
    mimeType: "text/plain",
    buffer: Buffer.from(uploaded),
  });
  for (let i = 0; i < 4; i++) await page.click("#step");
  assert.match(
    await text(page, "#replay-status"),
    /mine\.trace: 4 of 4 operations, done/,
  );
  const stepped = await page.evaluate(() => playground.session.pool.byteLength);
  const mine = Pool.create(stepped);
  replayTrace(await parseTrace(uploaded), mine);
  assert.deepEqual(await figures(page), expected(mine.stats()));
  await page.setInputFiles("#upload", []);

  // Churn for a second: the page's figures are its pool's, and the pool is sound.
  await page.click("#churn");
  await page.waitForTimeout(CHURN_MS);
  await page.click("#churn");
  const churned = await figures(page);
  const churnedPool = await page.evaluate(() => {
    const pool = playground.session.pool;
    pool.check();
    const blocks = [...pool.blocks()];
    return {
      stats: playground.session.stats(),
      tiled: blocks.reduce((sum, b) => sum + b.blockSize, 0),
      usedSum: blocks.filter((b) => !b.free).reduce((sum, b) => sum + b.blockSize, 0),
      ops: (playground.session as unknown as { ops: number }).ops,
    };
  });
  assert.deepEqual(churned, expected(churnedPool.stats));
  assert.ok(churnedPool.ops > 100, `churn ran only ${churnedPool.ops} operations`);
  assert.equal(churnedPool.usedSum, churnedPool.stats.bytesUsed);
  assert.equal(
    churnedPool.tiled,
    churnedPool.stats.capacity - churnedPool.stats.metadataBytes,
  );

  // Replay a bundled trace to its end, at full speed; the same trace replayed here agrees.
  await page.selectOption("#trace", "gcc-cc1plus.trace");
  await page.fill("#speed", "4");
  await page.click("#play");
  await page.waitForFunction(
    () => playground.session.replay?.done === true,
    undefined,
    { timeout: REPLAY_TIMEOUT_MS },
  );
  const replayed = await page.evaluate(() => ({
    failed: playground.session.replay!.failed,
    position: playground.session.replay!.position,
    length: playground.session.replay!.trace.length,
    capacity: playground.session.pool.byteLength,
  }));
  assert.equal(replayed.failed, false);
  assert.equal(replayed.position, replayed.length);
  const gccText = await Deno.readTextFile(
    new URL("../tools/playground/traces/gcc-cc1plus.trace", import.meta.url),
  );
  const here = Pool.create(replayed.capacity);
  const result = replayTrace(await parseTrace(gccText), here);
  assert.equal(result.failedAt, -1);
  assert.deepEqual(await figures(page), expected(here.stats()));
  assert.match(await text(page, "#replay-status"), /done/);

  // The "how it works" demo: allocate(1024) fails with 3 KiB free.
  await page.click("[data-scenario=noRoom]");
  const noRoom = await figures(page);
  assert.equal(noRoom.free, 3072);
  assert.ok(noRoom.largest! < 1024);
  assert.match(await text(page, "#last-op"), /allocate\(1024\) → null/);

  // A picture for people: a trace paused part-way, a free block's tooltip showing.
  await page.selectOption("#trace", "python-json.trace");
  await page.fill("#speed", "2");
  await page.click("#play");
  await page.waitForFunction(
    (at) => (playground.session.replay?.position ?? 0) >= at,
    PAUSE_AT,
  );
  await page.click("#play");
  await figures(page);
  await page.evaluate(() => scrollTo(0, 0));
  const hole = await page.evaluate(() =>
    [...playground.session.pool.blocks()].filter((b) => b.free).at(-2)?.offset
  );
  assert.ok(hole !== undefined);
  const holeAt = await page.evaluate((offset) => playground.blockCentre(offset), hole);
  await page.mouse.move(holeAt.x, holeAt.y);
  // In a pool of 128 KiB or more the hole may be a free slot of a run.
  assert.match(await text(page, "#tooltip"), /free (block|slot)/);
  const screenshot = `${outDir}/playground.png`;
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  assert.deepEqual(errors, []);
} finally {
  await browser.close();
  await server.shutdown();
  await Deno.remove(profile, { recursive: true });
}
