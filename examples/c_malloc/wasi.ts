/**
 * The little of WASI (`wasi_snapshot_preview1`) that a C program built for
 * `wasm32-wasi` calls when its allocator is not libc's: writes to stdout and
 * stderr, exit, an empty command line and environment, the clock and
 * random bytes. Every call reads the memory's buffer anew, as the buffer is
 * replaced whenever the memory grows.
 *
 * @module
 */

/** Thrown by `proc_exit` to unwind the module: the program's exit status. */
export class ProcExit {
  /** Makes the exit of a program with `code`. */
  constructor(readonly code: number) {}
}

/** WASI error numbers used here. */
const enum Errno {
  Success = 0,
  BadFd = 8,
  Inval = 28,
  NoSys = 52,
  SPipe = 70,
}

/** The file type WASI reports for stdin, stdout and stderr: a character device. */
const CHARACTER_DEVICE = 2;

/** What a program wrote, and the imports it needs. */
export interface Wasi {
  /** The import object's `wasi_snapshot_preview1` member. */
  imports: { wasi_snapshot_preview1: Record<string, (...args: never[]) => number | void> };
  /** Text written to stdout so far. */
  stdout(): string;
  /** Text written to stderr so far. */
  stderr(): string;
}

/** Makes WASI imports over the memory that `memory()` returns once the module exists. */
export function makeWasi(memory: () => WebAssembly.Memory): Wasi {
  const out: string[] = ["", "", ""];
  const decoder = new TextDecoder();
  const view = () => new DataView(memory().buffer);
  const zeroSizes = (countPtr: number, sizePtr: number): number => {
    const v = view();
    v.setUint32(countPtr, 0, true);
    v.setUint32(sizePtr, 0, true);
    return Errno.Success;
  };
  const wasi_snapshot_preview1 = {
    fd_write(fd: number, iovs: number, count: number, writtenPtr: number): number {
      if (fd !== 1 && fd !== 2) return Errno.BadFd;
      const v = view();
      let written = 0;
      for (let i = 0; i < count; i++) {
        const ptr = v.getUint32(iovs + i * 8, true);
        const length = v.getUint32(iovs + i * 8 + 4, true);
        out[fd] += decoder.decode(new Uint8Array(memory().buffer, ptr, length));
        written += length;
      }
      v.setUint32(writtenPtr, written, true);
      return Errno.Success;
    },
    fd_close: (): number => Errno.Success,
    fd_seek: (): number => Errno.SPipe,
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd > 2) return Errno.BadFd;
      const v = view();
      for (let i = 0; i < 24; i += 4) v.setUint32(statPtr + i, 0, true);
      v.setUint8(statPtr, CHARACTER_DEVICE);
      return Errno.Success;
    },
    proc_exit(code: number): void {
      throw new ProcExit(code);
    },
    args_sizes_get: zeroSizes,
    args_get: (): number => Errno.Success,
    environ_sizes_get: zeroSizes,
    environ_get: (): number => Errno.Success,
    random_get(ptr: number, length: number): number {
      crypto.getRandomValues(new Uint8Array(memory().buffer, ptr, length));
      return Errno.Success;
    },
    clock_time_get(_id: number, _precision: bigint, timePtr: number): number {
      view().setBigUint64(timePtr, BigInt(Math.round(performance.now() * 1e6)), true);
      return Errno.Success;
    },
    sched_yield: (): number => Errno.Success,
    fd_read: (): number => Errno.NoSys,
    fd_prestat_get: (): number => Errno.BadFd,
    fd_prestat_dir_name: (): number => Errno.Inval,
  };
  return { imports: { wasi_snapshot_preview1 }, stdout: () => out[1]!, stderr: () => out[2]! };
}
