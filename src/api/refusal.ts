/**
 * The error for an offset that `Tlsf.liveBlock` refused, shared by the pool's
 * raw path and debug mode so that both name a mistake the same way.
 *
 * @module
 */

import { PoolError } from "../common/errors.ts";
import { Status } from "../engine/tlsf.ts";

/**
 * The `PoolError` for `subject` (such as "offset 1032"), refused with
 * `status` by a call to `op`: `double-free` for a block freed already,
 * `corrupt` for a block whose header was overwritten, `invalid-offset`
 * for anything else.
 */
export function refusalError(status: number, subject: string, op: string): PoolError {
  switch (status) {
    case Status.FreeBlock:
      return new PoolError("double-free", `Cannot ${op} ${subject}: it was freed already.`);
    case Status.Damaged:
      return new PoolError(
        "corrupt",
        `Cannot ${op} ${subject}: the header of its block was overwritten (it no longer matches its check word).`,
      );
    default:
      return new PoolError(
        "invalid-offset",
        `Cannot ${op} ${subject}: it is not the payload of a live block.`,
      );
  }
}
