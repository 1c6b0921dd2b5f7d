/**
 * A pool over part of a WebAssembly memory: JavaScript allocates, fills a
 * block through a typed array, and hands its offset to a WebAssembly
 * function as a pointer. No copy is made on either side.
 *
 * Run it with `deno run examples/wasm_memory.ts`.
 *
 * @module
 */

import { Pool } from "../mod.ts";

/**
 * A WebAssembly module, written out byte by byte, that imports its memory and
 * exports `sum(ptr, n)`: the sum of the `n` float64s starting at byte `ptr`.
 * In text form:
 *
 * ```wat
 * (module
 *   (import "env" "memory" (memory 0))
 *   (func (export "sum") (param $ptr i32) (param $n i32) (result f64) (local $acc f64)
 *     (block $done
 *       (loop $next
 *         (br_if $done (i32.eqz (local.get $n)))
 *         (local.set $acc (f64.add (local.get $acc) (f64.load (local.get $ptr))))
 *         (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
 *         (local.set $n (i32.sub (local.get $n) (i32.const 1)))
 *         (br $next)))
 *     (local.get $acc)))
 * ```
 */
// deno-fmt-ignore
const SUM_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7c, // types: (i32, i32) -> f64
  0x02, 0x0f, 0x01, // imports: one,
  0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, // "env" "memory",
  0x02, 0x00, 0x00, // a memory of at least 0 pages
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x07, 0x07, 0x01, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, // exports: "sum" is function 0
  0x0a, 0x2d, 0x01, 0x2b, // code: one body of 43 bytes,
  0x01, 0x01, 0x7c, // with one f64 local
  0x02, 0x40, // block $done
  0x03, 0x40, //   loop $next
  0x20, 0x01, 0x45, 0x0d, 0x01, //     br_if $done (n == 0)
  0x20, 0x02, 0x20, 0x00, 0x2b, 0x03, 0x00, 0xa0, 0x21, 0x02, //     acc += f64.load(ptr)
  0x20, 0x00, 0x41, 0x08, 0x6a, 0x21, 0x00, //     ptr += 8
  0x20, 0x01, 0x41, 0x01, 0x6b, 0x21, 0x01, //     n -= 1
  0x0c, 0x00, //     br $next
  0x0b, //   end loop
  0x0b, // end block
  0x20, 0x02, // acc
  0x0b, // end
]);

/** Bytes of one WebAssembly page. */
const PAGE = 65536;
/** How many float64s the example sums. */
const COUNT = 1000;

const memory = new WebAssembly.Memory({ initial: 4 });
const { instance } = await WebAssembly.instantiate(SUM_MODULE, { env: { memory } });
const sum = instance.exports.sum as (ptr: number, n: number) => number;

// The first page stays the module's own (its stack and static data, in a real
// program); the pool manages the three after it, and grows the memory when
// full. Its offsets are pointers WebAssembly understands.
const pool = new Pool(memory, { byteOffset: PAGE });

const ptr = pool.alloc(COUNT * Float64Array.BYTES_PER_ELEMENT);
const values = new Float64Array(memory.buffer, ptr, COUNT);
for (let i = 0; i < COUNT; i++) values[i] = i + 1;
console.log(`sum of 1..${COUNT} in WebAssembly, read from block ${ptr}: ${sum(ptr, COUNT)}`);
pool.free(ptr);

// The same through a handle: its f64 view is over the same memory.
const block = pool.allocate(4 * Float64Array.BYTES_PER_ELEMENT)!;
block.f64.set([0.5, 1.5, 2.5, 3.5]);
console.log(`sum of a Block's f64 view: ${sum(block.offset, block.f64.length)}`);
block.free();

console.log(`after freeing both: ${pool.bytesUsed()} bytes used`);
