// The recorded traces beside the project (../shared/traces), for the tests
// that replay a real one. A checkout without them skips those tests.

/** The folder of recorded traces. */
export const TRACES = new URL("../../shared/traces/", import.meta.url);

/** The smallest real-program trace: quick enough to replay in a test. */
export const SMALLEST_TRACE = new URL("git-log-p.trace.gz", TRACES);

function isDirectory(url: URL): boolean {
  try {
    return Deno.statSync(url).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Whether the traces are there; says so once when they are not. */
export const tracesPresent = isDirectory(TRACES);
if (!tracesPresent) {
  console.warn(`Skipping the real-trace tests: the folder ${TRACES.pathname} is absent.`);
}
