// The command-line arguments of a bench tool. `deno task x -- args` passes the
// `--` on to the script, where `parseArgs` would take it to end the options.

/** This script's arguments, without a leading `--`. */
export function cliArgs(): string[] {
  return Deno.args[0] === "--" ? Deno.args.slice(1) : [...Deno.args];
}
