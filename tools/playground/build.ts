// Bundles the playground page with esbuild: the page's code, the library
// itself from mod.ts and trace.ts (unchanged, through relative imports) and
// uPlot, into one script; and uPlot's stylesheet beside it.

import { createRequire } from "node:module";
import * as esbuild from "esbuild";

/** The page's files, ready to serve. */
export interface PageBundle {
  /** The page's script, all it imports included. */
  js: string;
  /** uPlot's stylesheet. */
  uplotCss: string;
}

const require = createRequire(import.meta.url);

export async function buildPage(): Promise<PageBundle> {
  // esbuild cannot see Deno's npm cache, so it is told where uPlot's module is.
  const uplot = require.resolve("uplot/dist/uPlot.esm.js");
  const result = await esbuild.build({
    entryPoints: [new URL("./page/main.ts", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    target: "es2022",
    write: false,
    minify: true,
    sourcemap: false,
    alias: { uplot },
    logLevel: "silent",
  });
  const js = result.outputFiles[0]!.text;
  const uplotCss = await Deno.readTextFile(require.resolve("uplot/dist/uPlot.min.css"));
  await esbuild.stop();
  return { js, uplotCss };
}
