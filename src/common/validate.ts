/**
 * Argument checks shared by the public API: each throws the built-in error
 * that fits (`TypeError` for a wrong type, `RangeError` for a wrong value)
 * with a sentence that names the argument and says what it must be.
 *
 * @module
 */

/** Throws unless `value` is a safe integer >= 0. */
export function checkCount(value: unknown, name: string): asserts value is number {
  checkNumber(value, name);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `${name} must be a whole number from 0 to 2^53 - 1, but got ${value}.`,
    );
  }
}

/** Throws a `TypeError` unless `value` is a number (its range is the caller's to check). */
export function checkNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a number, but got ${describe(value)}.`);
  }
}

/** Throws a `TypeError` unless `value` is a function or undefined: an optional callback. */
export function checkCallback(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`${name} must be a function, but got ${describe(value)}.`);
  }
}

/** Throws unless `value` is a power of two from 1 to 2^31. */
export function checkAlign(value: unknown): asserts value is number {
  checkNumber(value, "align");
  if (!(Number.isInteger(value) && value >= 1 && value <= 2 ** 31 && (value & (value - 1)) === 0)) {
    throw new RangeError(`align must be a power of two such as 8, 16 or 4096, but got ${value}.`);
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "object" || typeof value === "function") {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `a ${name}` : `an ${typeof value}`;
  }
  return `${typeof value} ${String(value)}`;
}
