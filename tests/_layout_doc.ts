// Reading docs/layout.md's tables and numbers, for the tests that hold the code to it.

/** docs/layout.md's text. */
export const LAYOUT_DOC = Deno.readTextFileSync(new URL("../docs/layout.md", import.meta.url));

/** One table row: each cell's text (trimmed) under its column heading. */
export type Row = Record<string, string>;

/** Every Markdown table in `text`, in order, as rows keyed by column heading. */
export function tables(text: string): Row[][] {
  const found: Row[][] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("|") || !/^\|[\s:|-]+\|$/.test(lines[i + 1] ?? "")) continue;
    const headings = cells(lines[i]!);
    const rows: Row[] = [];
    for (i += 2; i < lines.length && lines[i]!.startsWith("|"); i++) {
      const values = cells(lines[i]!);
      rows.push(Object.fromEntries(headings.map((heading, k) => [heading, values[k] ?? ""])));
    }
    found.push(rows);
  }
  return found;
}

/** The cells of a table line. An escaped `\|` stays inside its cell. */
function cells(line: string): string[] {
  return line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim());
}

/** The first table after the line that starts with `heading`. */
export function tableAfter(text: string, heading: string): Row[] {
  const at = text.split("\n").findIndex((line) => line.startsWith(heading));
  if (at < 0) throw new Error(`no heading "${heading}" in the document`);
  const table = tables(text.split("\n").slice(at).join("\n"))[0];
  if (table === undefined) throw new Error(`no table after "${heading}"`);
  return table;
}

/**
 * A number as the document writes it: digits in groups split by spaces ("65 536"), hex
 * ("0x31414d4d"), or a power of two ("2^32"), each optionally "− 1" / "- 1" less.
 */
export function numberIn(text: string): number {
  const match = /^(?:(0x[0-9a-f]+)|2\^(\d+)|(\d{1,3}(?: \d{3})*))(?:\s*[−-]\s*(\d+))?$/i.exec(
    text.trim(),
  );
  if (match === null) throw new Error(`"${text}" is not a number as the document writes them`);
  const [, hex, power, digits, less] = match;
  const value = hex !== undefined
    ? parseInt(hex, 16)
    : power !== undefined
    ? 2 ** Number(power)
    : Number(digits!.replaceAll(" ", ""));
  return value - Number(less ?? 0);
}

/** The two ends of a range the document writes as "a … b" or "a–b". */
export function rangeIn(text: string): [number, number] {
  const parts = text.split(/\s*[…–]\s*/);
  if (parts.length !== 2) throw new Error(`"${text}" is not a range`);
  return [numberIn(parts[0]!), numberIn(parts[1]!)];
}
