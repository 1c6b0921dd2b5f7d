// Cuts a window of operations out of a trace as a trace of its own, for the
// playground's bundled traces: blocks made before the window are left out
// (their frees dropped, their resizes turned into allocations), and ids are
// renumbered from 0. Run:
//   deno run --allow-read tools/playground/cut_trace.ts <trace> <from> <count> > out.trace

import { parseTrace } from "../../trace.ts";
import { OP_ALLOC, OP_FREE } from "../../src/trace/format.ts";

/** The text of operations `from` to `from + count` of `trace`, as a trace. */
export function cutTrace(
  trace: Awaited<ReturnType<typeof parseTrace>>,
  from: number,
  count: number,
): string {
  const { ops, ids, newIds, sizes, aligns } = trace;
  const renamed = new Map<number, number>();
  const spare: number[] = [];
  let nextId = 0;
  const take = (old: number) => {
    const id = spare.pop() ?? nextId++;
    renamed.set(old, id);
    return id;
  };
  const release = (old: number) => {
    spare.push(renamed.get(old)!);
    renamed.delete(old);
  };
  const withAlign = (i: number) => aligns[i] === 0 ? "" : ` ${aligns[i]}`;
  const lines = [
    `# ${trace.description.trim()} (operations ${from} to ${from + count - 1} of ${trace.name})`,
  ];
  const end = Math.min(trace.length, from + count);
  for (let i = from; i < end; i++) {
    const id = ids[i]!;
    if (ops[i] === OP_ALLOC) {
      lines.push(`a ${take(id)} ${sizes[i]}${withAlign(i)}`);
    } else if (ops[i] === OP_FREE) {
      if (!renamed.has(id)) continue;
      lines.push(`f ${renamed.get(id)}`);
      release(id);
    } else if (!renamed.has(id)) {
      lines.push(`a ${take(newIds[i]!)} ${sizes[i]}${withAlign(i)}`);
    } else {
      const before = renamed.get(id)!;
      renamed.delete(id);
      renamed.set(newIds[i]!, before);
      lines.push(`r ${before} ${before} ${sizes[i]}${withAlign(i)}`);
    }
  }
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  const [path, from, count] = Deno.args;
  if (path === undefined || from === undefined || count === undefined) {
    console.error("Usage: cut_trace.ts <trace> <from> <count>");
    Deno.exit(2);
  }
  const name = path.split("/").pop()!.replace(/\.trace(\.gz)?$/, "");
  const trace = { ...await parseTrace(await Deno.readFile(path)), name };
  console.log(cutTrace(trace, Number(from), Number(count)).trimEnd());
}
