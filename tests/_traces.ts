// The trace fixtures: small traces cut from the recorded ones (tests/fixtures/README.md says
// how), so that the tests that replay real allocation patterns run in any checkout.
import { parseTrace, type Trace } from "../trace.ts";

/** What a fixture's text says of it, and the file it is in. */
export interface Fixture {
  /** The file's name without `.trace.gz`: what the replay tool calls the trace. */
  name: string;
  url: URL;
  /** Operations (lines after the comment). */
  operations: number;
  /** The largest sum of requested sizes live after any operation. */
  peakLiveBytes: number;
  /** The most blocks live after any operation. */
  peakLiveBlocks: number;
  /** Blocks allocated and never freed. */
  liveAtEnd: number;
  /** Whether some `a` or `r` line asks for an alignment. */
  aligned: boolean;
}

const FOLDER = new URL("./fixtures/", import.meta.url);

/** A fixture's entry: its name, then the numbers its text gives. */
function counted(
  name: string,
  operations: number,
  peakLiveBytes: number,
  peakLiveBlocks: number,
  liveAtEnd: number,
  aligned = false,
): Fixture {
  const url = new URL(`${name}.trace.gz`, FOLDER);
  return { name, url, operations, peakLiveBytes, peakLiveBlocks, liveAtEnd, aligned };
}

/**
 * Every fixture. Each number was counted from the fixture's text, line by line, by
 * `gzip -dc tests/fixtures/<name>.trace.gz | awk -f tests/fixtures/trace_stats.awk`: a
 * running sum of requested sizes, kept apart from the library's replay. On the whole
 * git-log-p trace the same script gives the 258 247 operations, 3 880 623 peak live bytes
 * and 425 peak live blocks that the recorded traces' README lists, which is how it was checked.
 */
export const FIXTURES: readonly Fixture[] = [
  counted("gcc-cc1plus-head", 20_000, 987_747, 2_499, 2_492),
  counted("git-log-p-head", 20_000, 3_048_322, 319, 185),
  counted("python-json-head", 20_000, 936_650, 8_237, 8_230),
  counted("sqlite-insert-head", 20_000, 204_675, 510, 327),
  // 4 000 ids, 11 250 allocations and as many frees: it ends empty, as the whole trace does.
  counted("synth-phased-ids", 22_500, 1_620_504, 4_000, 0),
  // Its 5 aligned allocations ask for 64 bytes, as in the whole trace.
  counted("synth-powerlaw-head", 20_000, 8_215_209, 1_056, 1_055, true),
  counted("synth-uniform-head", 20_000, 7_735_282, 3_801, 3_796),
];

/** The fixture named `name`. */
export function fixture(name: string): Fixture {
  const found = FIXTURES.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
}

/** A fixture's trace, parsed. */
export async function readFixture(f: Fixture): Promise<Trace> {
  return await parseTrace(await Deno.readFile(f.url), { name: `${f.name}.trace.gz` });
}
