// A plain TypeScript TLSF, for measuring what ours adds: the same bins,
// boundary tags and 8-byte headers, but no integrity checks, no argument
// validation, no top block and no statistics beyond the bytes in use. It is
// the floor for a TLSF written in TypeScript over a typed array, so churn
// through it beside ours and the WebAssembly TLSF says what our checks,
// counters and API cost. Not part of the library.

const { clz32 } = Math;

/** Header and free-list fields, as byte offsets from a block's start. */
const enum Field {
  Next = 4,
  Prev = 8,
  FooterFromEnd = 4,
}

const enum Flag {
  Free = 1,
  PrevFree = 2,
  Mask = 7,
}

const enum Layout {
  /** Word index of the bytes-in-use counter. */
  BytesUsed = 0,
  /** Word index of the first-level bitmap. */
  FlBitmap = 1,
  /** Word index of the first second-level bitmap, one per row. */
  SlBitmaps = 2,
  /** Rows of bins: enough for any pool below 4 GiB. */
  Rows = 25,
  /** Word index of the first bin head, 32 per row. */
  Heads = SlBitmaps + Rows,
  Header = 8,
  MinBlock = 16,
  Sentinel = 8,
  SlLog2 = 5,
  SlCount = 32,
  SmallLimit = 256,
  SmallLimitLog2 = 8,
}

const enum Size {
  Word = 4,
  WordLog2 = 2,
  Align = 8,
  AlignLog2 = 3,
}

const METADATA_END = (Layout.Heads + Layout.Rows * Layout.SlCount) * Size.Word;
const FIRST_BLOCK = (METADATA_END + Size.Align - 1) & -Size.Align;

function binOf(size: number): number {
  if (size < Layout.SmallLimit) return size >>> Size.AlignLog2;
  const f = 31 - clz32(size);
  return (f - Layout.SmallLimitLog2 + 1) * Layout.SlCount +
    ((size >>> (f - Layout.SlLog2)) & (Layout.SlCount - 1));
}

/** A heap over `buffer`; `alloc` returns a payload offset or 0, `free` takes one back. */
export class PlainTlsf {
  private readonly u32: Uint32Array;

  constructor(buffer: ArrayBuffer) {
    this.u32 = new Uint32Array(buffer);
    const end = buffer.byteLength - Layout.Sentinel;
    this.u32[end >>> Size.WordLog2] = 0;
    this.insert(FIRST_BLOCK, end - FIRST_BLOCK);
  }

  alloc(size: number): number {
    const u32 = this.u32;
    const need = size <= Layout.Header
      ? Layout.MinBlock
      : (size + Layout.Header + Size.Align - 1) & -Size.Align;
    // Rounded up past need's own bin above SmallLimit, so any block found fits.
    const bin = need < Layout.SmallLimit
      ? need >>> Size.AlignLog2
      : binOf(need + (1 << (31 - clz32(need) - Layout.SlLog2)) - 1);
    let fl = bin >>> Layout.SlLog2;
    let slMap = u32[Layout.SlBitmaps + fl]! & (~0 << (bin & (Layout.SlCount - 1)));
    if (slMap === 0) {
      const flMap = u32[Layout.FlBitmap]! & (~0 << (fl + 1));
      if (flMap === 0) return 0;
      fl = 31 - clz32(flMap & -flMap);
      slMap = u32[Layout.SlBitmaps + fl]!;
    }
    const b = u32[Layout.Heads + fl * Layout.SlCount + 31 - clz32(slMap & -slMap)]!;
    const h = u32[b >>> Size.WordLog2]!;
    const found = h & ~Flag.Mask;
    this.remove(b, found);
    const rest = found - need;
    if (rest >= Layout.MinBlock) {
      u32[b >>> Size.WordLog2] = need | (h & Flag.PrevFree);
      this.insert(b + need, rest);
    } else {
      u32[b >>> Size.WordLog2] = found | (h & Flag.PrevFree);
      u32[(b + found) >>> Size.WordLog2]! &= ~Flag.PrevFree;
    }
    u32[Layout.BytesUsed]! += u32[b >>> Size.WordLog2]! & ~Flag.Mask;
    return b + Layout.Header;
  }

  free(payload: number): void {
    const u32 = this.u32;
    let b = payload - Layout.Header;
    const h = u32[b >>> Size.WordLog2]!;
    let size = h & ~Flag.Mask;
    u32[Layout.BytesUsed]! -= size;
    const nh = u32[(b + size) >>> Size.WordLog2]!;
    if (nh & Flag.Free) {
      this.remove(b + size, nh & ~Flag.Mask);
      size += nh & ~Flag.Mask;
    }
    if (h & Flag.PrevFree) {
      const prevSize = u32[(b - Field.FooterFromEnd) >>> Size.WordLog2]!;
      b -= prevSize;
      this.remove(b, prevSize);
      size += prevSize;
    }
    this.insert(b, size);
  }

  private insert(b: number, size: number): void {
    const u32 = this.u32;
    u32[b >>> Size.WordLog2] = size | Flag.Free;
    u32[(b + size - Field.FooterFromEnd) >>> Size.WordLog2] = size;
    u32[(b + size) >>> Size.WordLog2]! |= Flag.PrevFree;
    const bin = binOf(size);
    const head = u32[Layout.Heads + bin]!;
    u32[(b + Field.Next) >>> Size.WordLog2] = head;
    u32[(b + Field.Prev) >>> Size.WordLog2] = 0;
    if (head !== 0) {
      u32[(head + Field.Prev) >>> Size.WordLog2] = b;
    } else {
      u32[Layout.SlBitmaps + (bin >>> Layout.SlLog2)]! |= 1 << (bin & (Layout.SlCount - 1));
      u32[Layout.FlBitmap]! |= 1 << (bin >>> Layout.SlLog2);
    }
    u32[Layout.Heads + bin] = b;
  }

  private remove(b: number, size: number): void {
    const u32 = this.u32;
    const next = u32[(b + Field.Next) >>> Size.WordLog2]!;
    const prev = u32[(b + Field.Prev) >>> Size.WordLog2]!;
    if (next !== 0) u32[(next + Field.Prev) >>> Size.WordLog2] = prev;
    if (prev !== 0) {
      u32[(prev + Field.Next) >>> Size.WordLog2] = next;
      return;
    }
    const bin = binOf(size);
    u32[Layout.Heads + bin] = next;
    if (next !== 0) return;
    const fl = bin >>> Layout.SlLog2;
    const slMap = u32[Layout.SlBitmaps + fl]! & ~(1 << (bin & (Layout.SlCount - 1)));
    u32[Layout.SlBitmaps + fl] = slMap;
    if (slMap === 0) u32[Layout.FlBitmap]! &= ~(1 << fl);
  }
}
