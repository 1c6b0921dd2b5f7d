/**
 * Allocation traces: the text format and a streaming parser for it.
 *
 * A trace has one operation per line:
 *
 * - `a <id> <size>` allocates `size` bytes, known as block `id` from then on;
 * - `a <id> <size> <align>` does the same with an alignment (a power of two);
 * - `f <id>` frees block `id`;
 * - `r <id> <newid> <size>` resizes block `id` to `size` bytes; it is `newid` afterwards;
 * - `r <id> <newid> <size> <align>` does the same with `align` (a power of two)
 *   as `Pool.realloc`'s, which places the block on it if it moves; later `r`
 *   lines without one keep it;
 * - a line that starts with `#` is a comment; the first one usually names the program.
 *
 * A block keeps its alignment (8 bytes unless its `a` line gives one) through
 * `r` lines without one, as a `Block` does through `Pool.resize`.
 *
 * Ids are small whole numbers, unique among live blocks and reused after a
 * free. Blocks still live at the end were never freed.
 *
 * @module
 */

import { MAX_POOL_BYTES, Size } from "../engine/tlsf.ts";
import { checkOptions } from "../common/validate.ts";

/** An allocation trace, parsed: one entry per operation in each column. */
export interface Trace {
  /** The name errors and reports use, such as the file name. */
  readonly name: string;
  /** The first comment line without its `#`, usually what program made the trace; "" if none. */
  readonly description: string;
  /** Number of operations. */
  readonly length: number;
  /** The operation's letter as a character code: 97 (`a`), 102 (`f`) or 114 (`r`). */
  readonly ops: Uint8Array;
  /** The block the operation is about. */
  readonly ids: Uint32Array;
  /** For `r`, the block's id afterwards; for `a` and `f`, the same as `ids`. */
  readonly newIds: Uint32Array;
  /** For `a` and `r`, the bytes requested; 0 for `f`. */
  readonly sizes: Uint32Array;
  /** For `a` and `r`, the alignment the line gives, or 0 when it gives none; 0 for `f`. */
  readonly aligns: Uint32Array;
  /** One more than the largest id: the length of a table indexed by id. */
  readonly idCount: number;
}

/** How `parseTrace` names its input. */
export interface ParseTraceOptions {
  /** The name that errors give for the input, such as its file name. Default "trace". */
  name?: string;
}

/** What `parseTrace` reads: text, bytes (gzip-compressed or not) or a stream of bytes. */
export type TraceInput = string | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>;

/**
 * A trace that is malformed or asks the impossible (such as freeing a block
 * that is not live), with the place where it does.
 *
 * @example Finding the bad line
 * ```ts
 * import { parseTrace, TraceError } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   parseTrace("a 0 16\nf 1\n", { name: "app.trace" }),
 *   (e) => e instanceof TraceError && e.file === "app.trace" && e.line === 2,
 * );
 * ```
 */
export class TraceError extends Error {
  /** The name of the trace, as given to `parseTrace`. */
  readonly file: string;
  /** The 1-based line number, or 0 when the fault is not on one line (damaged gzip data). */
  readonly line: number;

  /**
   * Makes an error whose message starts with `file:line:`.
   *
   * @param file The trace's name.
   * @param line The 1-based line number, or 0 for the whole input.
   * @param message What is wrong, as a sentence for people.
   */
  constructor(file: string, line: number, message: string) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
    this.name = "TraceError";
    this.file = file;
    this.line = line;
  }
}

/** `Trace.ops` value of an allocation, `a`. */
export const OP_ALLOC = "a".charCodeAt(0);
/** `Trace.ops` value of a free, `f`. */
export const OP_FREE = "f".charCodeAt(0);
/** `Trace.ops` value of a resize, `r`. */
export const OP_RESIZE = "r".charCodeAt(0);
const COMMENT = "#".charCodeAt(0);
const NEWLINE = "\n".charCodeAt(0);
const RETURN = "\r".charCodeAt(0);
const SPACE = " ".charCodeAt(0);
const TAB = "\t".charCodeAt(0);
const DIGIT_0 = "0".charCodeAt(0);
const DECIMAL = 10;
const GZIP_MAGIC = [0x1f, 0x8b];

/** Ids index tables, so they are bounded by the most blocks any pool can hold live. */
const MAX_ID = MAX_POOL_BYTES / Size.MinBlock - 1;
/** The largest request a pool could ever satisfy is below its 4 GiB limit. */
const MAX_SIZE = MAX_POOL_BYTES - 1;
/** The largest alignment `Pool.alloc` accepts. */
const MAX_ALIGN = 2 ** 31;
/** Most numbers a line has: `r <id> <newid> <size> <align>`. */
const MAX_FIELDS = 4;
/** Operations the columns start with room for; they double as needed. */
const INITIAL_CAPACITY = 1 << 16;
/** Characters of text encoded at a time when the input is a string. */
const TEXT_CHUNK = 1 << 16;
/** UTF-8 needs at most 3 bytes for one UTF-16 code unit. */
const UTF8_PER_UNIT = 3;
/** Characters of a bad line that an error message quotes. */
const QUOTE_LIMIT = 80;
/** Bytes kept to start with for a line cut between two chunks; it grows as needed. */
const INITIAL_CARRY = 256;
/** UTF-16 code units that start a surrogate pair, which a text chunk must not end with. */
const HIGH_SURROGATE_FIRST = 0xd800;
const HIGH_SURROGATE_LAST = 0xdbff;

const USAGE = `a line is "a <id> <size> [<align>]", "f <id>", ` +
  `"r <id> <newid> <size> [<align>]" or a "#" comment`;

/** Each operation's fields; for `a` and `r`, the last one (align) may be left out. */
const FIELD_NAMES: Record<number, readonly string[]> = {
  [OP_ALLOC]: ["id", "size", "align"],
  [OP_FREE]: ["id"],
  [OP_RESIZE]: ["id", "newid", "size", "align"],
};

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

/** Parses trace text into typed arrays, chunk by chunk, checking every line as it goes. */
class TraceParser {
  readonly #name: string;
  readonly #decoder = new TextDecoder();
  #line = 0;
  #length = 0;
  #ops = new Uint8Array(INITIAL_CAPACITY);
  #ids = new Uint32Array(INITIAL_CAPACITY);
  #newIds = new Uint32Array(INITIAL_CAPACITY);
  #sizes = new Uint32Array(INITIAL_CAPACITY);
  #aligns = new Uint32Array(INITIAL_CAPACITY);
  /** Per id: the line that made it live, or 0 while it is not live. */
  #liveSince = new Uint32Array(INITIAL_CAPACITY);
  #idCount = 0;
  #description: string | undefined = undefined;
  /** The unfinished last line of the previous chunk. */
  #carry = new Uint8Array(INITIAL_CARRY);
  #carryLength = 0;
  readonly #fields = new Float64Array(MAX_FIELDS);

  constructor(name: string) {
    this.#name = name;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    if (this.#carryLength > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        this.#keep(chunk, 0, chunk.length);
        return;
      }
      this.#keep(chunk, 0, nl);
      this.#parseLine(this.#carry, 0, this.#carryLength);
      this.#carryLength = 0;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      this.#parseLine(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.#keep(chunk, start, chunk.length);
  }

  pushText(text: string): void {
    const encoder = new TextEncoder();
    const bytes = new Uint8Array(TEXT_CHUNK * UTF8_PER_UNIT);
    for (let at = 0; at < text.length;) {
      let end = Math.min(at + TEXT_CHUNK, text.length);
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= HIGH_SURROGATE_FIRST && last <= HIGH_SURROGATE_LAST) end--;
      const { written } = encoder.encodeInto(text.substring(at, end), bytes);
      this.push(bytes.subarray(0, written));
      at = end;
    }
  }

  finish(): Trace {
    if (this.#carryLength > 0) {
      this.#parseLine(this.#carry, 0, this.#carryLength);
      this.#carryLength = 0;
    }
    const n = this.#length;
    return {
      name: this.#name,
      description: this.#description ?? "",
      length: n,
      ops: this.#ops.slice(0, n),
      ids: this.#ids.slice(0, n),
      newIds: this.#newIds.slice(0, n),
      sizes: this.#sizes.slice(0, n),
      aligns: this.#aligns.slice(0, n),
      idCount: this.#idCount,
    };
  }

  #fail(line: number, message: string): never {
    throw new TraceError(this.#name, line, message);
  }

  #keep(chunk: Uint8Array, from: number, to: number): void {
    const need = this.#carryLength + to - from;
    if (need > this.#carry.length) {
      const bigger = new Uint8Array(Math.max(need, this.#carry.length * 2));
      bigger.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = bigger;
    }
    this.#carry.set(chunk.subarray(from, to), this.#carryLength);
    this.#carryLength = need;
  }

  #parseLine(buf: Uint8Array, start: number, end: number): void {
    const line = ++this.#line;
    if (end > start && buf[end - 1] === RETURN) end--;
    if (start === end) this.#bad(buf, start, end, `empty line; ${USAGE}`);
    const op = buf[start]!;
    if (op === COMMENT) {
      this.#description ??= this.#decoder.decode(buf.subarray(start + 1, end)).trim();
      return;
    }
    let p = start + 1;
    const names = FIELD_NAMES[op];
    if (names === undefined || (p < end && !isBlank(buf[p]!))) {
      while (p < end && !isBlank(buf[p]!)) p++;
      const word = this.#decoder.decode(buf.subarray(start, p));
      this.#bad(buf, start, end, `unknown operation "${word}"; ${USAGE}`);
    }
    const fields = this.#fields;
    let count = 0;
    for (;;) {
      while (p < end && isBlank(buf[p]!)) p++;
      if (p === end) break;
      const from = p;
      let value = 0;
      let digits = true;
      for (; p < end && !isBlank(buf[p]!); p++) {
        const digit = buf[p]! - DIGIT_0;
        if (digit < 0 || digit >= DECIMAL) digits = false;
        value = value * DECIMAL + digit;
      }
      if (count === MAX_FIELDS) {
        this.#bad(buf, start, end, this.#arity(op, names, MAX_FIELDS + 1));
      }
      if (!digits) this.#notNumber(buf, start, end, from, p, names[count] ?? "field");
      fields[count++] = value;
    }
    const min = op === OP_FREE ? names.length : names.length - 1;
    if (count < min || count > names.length) {
      this.#bad(buf, start, end, this.#arity(op, names, count));
    }

    const id = fields[0]!;
    this.#checkId(buf, start, end, id, "id");
    const n = this.#length;
    if (n === this.#ops.length) this.#grow();
    this.#ops[n] = op;
    this.#ids[n] = id;
    this.#newIds[n] = id;
    if (op === OP_ALLOC) {
      const size = fields[1]!;
      this.#checkSize(buf, start, end, size);
      this.#aligns[n] = count === names.length ? this.#checkAlign(buf, start, end, fields[2]!) : 0;
      this.#becomesLive(id, line);
      this.#sizes[n] = size;
    } else if (op === OP_FREE) {
      if (!this.#isLive(id)) {
        this.#bad(buf, start, end, `free of block ${id}, which is not live`);
      }
      this.#liveSince[id] = 0;
    } else {
      const newId = fields[1]!;
      const size = fields[2]!;
      this.#checkId(buf, start, end, newId, "newid");
      this.#checkSize(buf, start, end, size);
      this.#aligns[n] = count === names.length ? this.#checkAlign(buf, start, end, fields[3]!) : 0;
      if (!this.#isLive(id)) {
        this.#bad(buf, start, end, `resize of block ${id}, which is not live`);
      }
      if (newId !== id) {
        this.#liveSince[id] = 0;
        this.#becomesLive(newId, line);
      }
      this.#newIds[n] = newId;
      this.#sizes[n] = size;
    }
    this.#length = n + 1;
  }

  #isLive(id: number): boolean {
    return id < this.#liveSince.length && this.#liveSince[id] !== 0;
  }

  #becomesLive(id: number, line: number): void {
    if (id >= this.#liveSince.length) {
      const bigger = new Uint32Array(Math.max(id + 1, this.#liveSince.length * 2));
      bigger.set(this.#liveSince);
      this.#liveSince = bigger;
    }
    const since = this.#liveSince[id]!;
    if (since !== 0) {
      this.#fail(
        line,
        `block ${id} is allocated again while live (it was allocated on line ${since})`,
      );
    }
    this.#liveSince[id] = line;
    if (id >= this.#idCount) this.#idCount = id + 1;
  }

  #grow(): void {
    const capacity = this.#ops.length * 2;
    const grow = <T extends Uint8Array | Uint32Array>(old: T, make: new (n: number) => T): T => {
      const bigger = new make(capacity);
      bigger.set(old);
      return bigger;
    };
    this.#ops = grow(this.#ops, Uint8Array);
    this.#ids = grow(this.#ids, Uint32Array);
    this.#newIds = grow(this.#newIds, Uint32Array);
    this.#sizes = grow(this.#sizes, Uint32Array);
    this.#aligns = grow(this.#aligns, Uint32Array);
  }

  #checkId(buf: Uint8Array, start: number, end: number, id: number, name: string): void {
    if (id > MAX_ID) {
      this.#bad(buf, start, end, `${name} ${id} is above ${MAX_ID}; ids are small and reused`);
    }
  }

  #checkSize(buf: Uint8Array, start: number, end: number, size: number): void {
    if (size > MAX_SIZE) {
      this.#bad(buf, start, end, `size ${size} is above ${MAX_SIZE}, more than a pool can hold`);
    }
  }

  #checkAlign(buf: Uint8Array, start: number, end: number, align: number): number {
    if (align === 0 || align > MAX_ALIGN || (align & (align - 1)) !== 0) {
      this.#bad(buf, start, end, `align ${align} is not a power of two from 1 to 2^31`);
    }
    return align;
  }

  #arity(op: number, names: readonly string[], count: number): string {
    const letter = String.fromCharCode(op);
    const form = names.map((name) => name === "align" ? "[<align>]" : `<${name}>`).join(" ");
    return `"${letter}" takes ${form}, but the line has ${count} number${count === 1 ? "" : "s"}`;
  }

  #notNumber(
    buf: Uint8Array,
    start: number,
    end: number,
    from: number,
    to: number,
    name: string,
  ): never {
    const word = this.#decoder.decode(buf.subarray(from, to));
    const negative = /^-\d+$/.test(word);
    this.#bad(
      buf,
      start,
      end,
      `${name} "${word}" is ${negative ? "negative" : "not a whole number"}`,
    );
  }

  #bad(buf: Uint8Array, start: number, end: number, message: string): never {
    let text = this.#decoder.decode(buf.subarray(start, Math.min(end, start + QUOTE_LIMIT)));
    if (end - start > QUOTE_LIMIT) text += "…";
    this.#fail(this.#line, `${message}: ${JSON.stringify(text)}`);
  }
}

function bytesOf(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  return input instanceof ArrayBuffer
    ? new Uint8Array(input)
    : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** The same bytes over an `ArrayBuffer`, as `DecompressionStream` takes them. */
function unshared(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? bytes as Uint8Array<ArrayBuffer> : bytes.slice();
}

/** A stream that yields `head` and then the rest of `reader`. */
function resume(
  head: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  return new ReadableStream({
    start(controller) {
      if (head.length > 0) controller.enqueue(unshared(head));
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(unshared(value));
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

async function pushStream(
  parser: TraceParser,
  stream: ReadableStream<Uint8Array>,
  name: string,
): Promise<void> {
  let reader = stream.getReader();
  try {
    // Read enough to see whether the bytes are gzip-compressed.
    let head = new Uint8Array(0);
    while (head.length < GZIP_MAGIC.length) {
      const { done, value } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(head.length + value.length);
      joined.set(head);
      joined.set(value, head.length);
      head = joined;
    }
    if (isGzip(head)) {
      reader = resume(head, reader).pipeThrough(new DecompressionStream("gzip")).getReader();
    } else {
      parser.push(head);
    }
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new TraceError(
          name,
          0,
          `cannot read the trace: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (chunk.done) break;
      parser.push(chunk.value);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
}

/**
 * Parses an allocation trace into typed arrays, checking every line: a
 * malformed line, or one that asks the impossible (freeing or resizing a
 * block that is not live, allocating an id that is live), is an error that
 * names the trace and the line. Bytes and streams may be gzip-compressed;
 * they are decompressed on the fly, so a large trace never exists in memory
 * as text.
 *
 * @param input The trace as text, as bytes or as a stream of bytes (such as
 * a `fetch` response's `body`).
 * @param options The name that errors give for the input.
 * @returns The parsed trace.
 * @throws {TraceError} At the first bad line, or when gzip data is damaged.
 *
 * @example
 * ```ts
 * import { parseTrace, TraceError } from "@mm/alloc/trace";
 * import assert from "node:assert/strict";
 *
 * const trace = await parseTrace("# demo\na 0 100\na 1 24 64\nr 0 0 200\nr 1 1 40 8\nf 1\n");
 * assert.equal(trace.length, 5);
 * assert.equal(trace.description, "demo");
 * assert.equal(String.fromCharCode(trace.ops[2]!), "r");
 * assert.equal(trace.aligns[1], 64);
 * assert.equal(trace.aligns[3], 8);
 *
 * await assert.rejects(
 *   parseTrace("a 0 8\nf 1\n", { name: "demo.trace" }),
 *   (e) => e instanceof TraceError && e.line === 2 && e.message.startsWith("demo.trace:2:"),
 * );
 * ```
 */
export async function parseTrace(
  input: TraceInput,
  options: ParseTraceOptions = {},
): Promise<Trace> {
  checkOptions(options, "parseTrace()'s options", ["name"]);
  const name = options.name ?? "trace";
  const parser = new TraceParser(name);
  if (typeof input === "string") {
    parser.pushText(input);
  } else if (input instanceof ReadableStream) {
    await pushStream(parser, input, name);
  } else {
    const bytes = bytesOf(input);
    if (isGzip(bytes)) await pushStream(parser, streamOf(bytes), name);
    else parser.push(bytes);
  }
  return parser.finish();
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
