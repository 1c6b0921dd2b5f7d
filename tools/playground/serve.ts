// The playground's server: bundles the page at start, then serves it and the
// bundled traces on 127.0.0.1. Run `deno task playground -- --port 8000`.

import { parseArgs } from "node:util";
import { cliArgs } from "../_cli_args.ts";
import { buildPage } from "./build.ts";

const DEFAULT_PORT = 8000;
const HOST = "127.0.0.1";
const MAX_PORT = 65535;

const USAGE = `Usage: deno task playground -- [--port N]

Serves the @mm/alloc playground on http://${HOST}:N/ (default port ${DEFAULT_PORT};
0 picks a free one).`;

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  trace: "text/plain; charset=utf-8",
};

/** A running playground server. */
export interface Playground {
  /** Its address, such as http://127.0.0.1:8000/. */
  url: string;
  /** Stops serving. */
  shutdown(): Promise<void>;
}

/** Bundles the page and serves it on `port` (0 for any free port). */
export async function startPlayground(port: number): Promise<Playground> {
  const bundle = await buildPage();
  const here = new URL("./", import.meta.url);
  const files = new Map<string, string>([
    ["/", await Deno.readTextFile(new URL("page/index.html", here))],
    ["/style.css", await Deno.readTextFile(new URL("page/style.css", here))],
    ["/uplot.css", bundle.uplotCss],
    ["/app.js", bundle.js],
  ]);
  for await (const entry of Deno.readDir(new URL("traces/", here))) {
    files.set(
      `/traces/${entry.name}`,
      await Deno.readTextFile(new URL(`traces/${entry.name}`, here)),
    );
  }
  const server = Deno.serve({ hostname: HOST, port, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    const body = files.get(path);
    if (body === undefined) return new Response("not found", { status: 404 });
    const extension = path === "/" ? "html" : path.split(".").pop()!;
    return new Response(body, {
      headers: {
        "content-type": TYPES[extension] ?? "application/octet-stream",
        // Cross-origin isolation gives performance.now() its fine step, for the operation costs.
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
        "cache-control": "no-store",
      },
    });
  });
  return {
    url: `http://${HOST}:${server.addr.port}/`,
    shutdown: () => server.shutdown(),
  };
}

if (import.meta.main) {
  let port = DEFAULT_PORT;
  try {
    const { values } = parseArgs({
      args: cliArgs(),
      options: { port: { type: "string" }, help: { type: "boolean" } },
    });
    if (values.help) {
      console.log(USAGE);
      Deno.exit(0);
    }
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
        throw new Error(
          `--port must be a whole number from 0 to ${MAX_PORT}, not "${values.port}".`,
        );
      }
    }
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    Deno.exit(2);
  }
  const playground = await startPlayground(port);
  console.log(`@mm/alloc playground: ${playground.url}`);
}
