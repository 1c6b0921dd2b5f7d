/**
 * An edge function in the style of Deno Deploy: one pool for the isolate,
 * and every request's memory taken from it and given back when the request
 * ends. A client POSTs float64s (little-endian); the reply is their running
 * sums, as float64s. The body is streamed into a pooled block, the reply is
 * built in another, and `using` frees both however the handler returns.
 *
 * Run it with `deno run --allow-net=127.0.0.1 examples/edge.ts`, then send
 * it numbers:
 *
 * ```sh
 * printf '\0\0\0\0\0\0\xf0\x3f%.0s' 1 2 3 | curl -s --data-binary @- 127.0.0.1:8000 | od -An -tf8
 * ```
 *
 * @module
 */

import { Pool, PoolError } from "../mod.ts";

/** The isolate's pool: requests in flight at once share it. */
export const pool: Pool = Pool.create(4 << 20);

/** The largest body taken, in bytes: 64 Ki float64s. */
export const MAX_BODY_BYTES = 512 * 1024;

/** Answers one request: the running sums of the float64s posted. */
export async function handler(request: Request): Promise<Response> {
  if (request.method !== "POST") {
    return new Response("POST little-endian float64s to get their running sums.\n", {
      status: 405,
    });
  }
  const length = Number(request.headers.get("content-length"));
  if (!(Number.isSafeInteger(length) && length % 8 === 0 && length <= MAX_BODY_BYTES)) {
    return new Response(`The body must be float64s, at most ${MAX_BODY_BYTES} bytes.\n`, {
      status: 400,
    });
  }
  try {
    using input = pool.allocateOrThrow(length);
    // Other requests run while this one waits for its body: their blocks are apart from ours.
    if (!(await readInto(request.body, input.u8))) {
      return new Response("The body was not as long as its Content-Length.\n", { status: 400 });
    }
    using sums = pool.allocateOrThrow(length);
    const from = input.f64;
    const to = sums.f64;
    let sum = 0;
    for (let i = 0; i < from.length; i++) to[i] = sum += from[i]!;
    // A copy: the block is freed as the handler returns, before the body is sent.
    return new Response(sums.u8.slice(), {
      headers: { "content-type": "application/octet-stream" },
    });
  } catch (e) {
    if (e instanceof PoolError && e.code === "out-of-memory") {
      return new Response("Busy: try again.\n", { status: 503, headers: { "retry-after": "1" } });
    }
    throw e;
  }
}

/** Copies a body into `into`; whether it filled it exactly. */
async function readInto(
  body: ReadableStream<Uint8Array> | null,
  into: Uint8Array,
): Promise<boolean> {
  let filled = 0;
  if (body !== null) {
    for await (const chunk of body) {
      if (filled + chunk.length > into.length) return false;
      into.set(chunk, filled);
      filled += chunk.length;
    }
  }
  return filled === into.length;
}

if (import.meta.main) {
  Deno.serve({ hostname: "127.0.0.1", port: 8000 }, handler);
}
