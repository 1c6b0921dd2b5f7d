// Command-line parsing shared by the tools: `deno task x -- args` passes the
// `--` on to the script, and a bad flag must end in a usage hint and exit
// code 2, not in an exception with a stack.

import { parseArgs, type ParseArgsConfig } from "node:util";

/** The exit code of a command line the tool cannot take. */
const USAGE_EXIT = 2;

/** This script's arguments, without a leading `--`. */
export function cliArgs(): string[] {
  return Deno.args[0] === "--" ? Deno.args.slice(1) : [...Deno.args];
}

/** A command line the tool cannot take: `runCli` turns it into its problem, a hint and exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** `parseArgs(config)`, whose errors (unknown flags, missing values) become UsageErrors. */
export function parseCli<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Runs a tool's `main`. A UsageError prints its message and `hint` (one line
 * naming the command and `-h`) to stderr and exits 2; anything else is left
 * to propagate.
 */
export async function runCli(main: () => number | Promise<number>, hint: string): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${hint}`);
    code = USAGE_EXIT;
  }
  Deno.exit(code);
}
