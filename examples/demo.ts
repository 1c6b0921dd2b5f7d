/**
 * A walk through one small pool, drawn after every step.
 *
 * Run it with `deno task demo`. It colours the pictures on a terminal and
 * prints plain text when piped or when NO_COLOR is set.
 *
 * @module
 */

import {
  allocate,
  type Block,
  bytesFree,
  bytesUsed,
  deallocate,
  heapMap,
  initPool,
  largestFreeBlock,
} from "../mod.ts";

const POOL_BYTES = 8 * 1024;
const WIDTH = 64;
/** The first blocks' size, and the request that fragmentation makes fail. */
const KIB = 1024;
/** The size of the blocks that fragment the pool. */
const SMALL = 512;
// Plain text outside Deno: the npm package's test runs this under Node.js.
const color = typeof Deno === "object" && Deno.stdout.isTerminal() && !Deno.noColor;
const pool = initPool(new ArrayBuffer(POOL_BYTES));
let step = 0;

function show(caption: string): void {
  step++;
  console.log(`\n${step}. ${caption}`);
  console.log(`   ${heapMap(pool, { width: WIDTH, color })}`);
  console.log(
    `   used ${bytesUsed()} B · free ${bytesFree()} B · largest free block ${largestFreeBlock()} B`,
  );
}

function allocated(size: number): Block {
  const block = allocate(size);
  if (block === null) throw new Error(`The demo pool has no room for ${size} bytes.`);
  return block;
}

console.log(`One ${POOL_BYTES}-byte pool, ${WIDTH} cells wide: ≡ metadata, █ used, ░ free.`);
console.log("Used and free bytes count whole blocks, headers included;");
console.log("the largest free block is the most one allocate() can get.");

show("A fresh pool: the allocator's metadata, then one free block.");

const blocks = [1, 2, 3, 4].map(() => allocated(KIB));
show("Allocate four 1 KiB blocks: each is carved from the front of the free space.");

deallocate(blocks[1]!);
show("Free the second block: a hole opens in the middle.");

deallocate(blocks[0]!);
deallocate(blocks[2]!);
show("Free the first and third: the hole merges with both into one free block.");

deallocate(blocks[3]!);
show("Free the last: all the free space coalesces into one block again.");

const small: Block[] = [];
for (let block = allocate(SMALL); block !== null; block = allocate(SMALL)) small.push(block);
show(
  `Fill the pool with ${SMALL}-byte blocks (${small.length} fit) until allocate() returns null.`,
);

small.forEach((block, i) => {
  if (i % 2 === 0) deallocate(block);
});
show("Free every other block: plenty of free bytes, but only in small holes.");

const attempt = allocate(KIB);
console.log(
  `   allocate(${KIB}) → ${attempt === null ? "null" : "a block"}: ` +
    `${bytesFree()} bytes are free, yet no hole holds ${KIB}.`,
);

small.forEach((block, i) => {
  if (i % 2 === 1) deallocate(block);
});
show("Free the rest: holes and blocks merge; the pool is one free block again.");
