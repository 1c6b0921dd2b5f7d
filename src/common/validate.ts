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

/**
 * Throws a `TypeError` unless `options` is undefined or an object whose own
 * keys are all in `keys`: a misspelt option is an error, not ignored.
 */
export function checkOptions(options: unknown, name: string, keys: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${name} must be an object, but got ${describe(options)}.`);
  }
  for (const key in options) {
    if (Object.hasOwn(options, key) && !keys.includes(key)) {
      throw new TypeError(
        `${name} has an unknown option ${JSON.stringify(key)}; it takes ${
          keys.map((k) => JSON.stringify(k)).join(", ")
        }.`,
      );
    }
  }
}

const byteLengthOf = (proto: object) => Object.getOwnPropertyDescriptor(proto, "byteLength")!.get!;
const arrayBufferLength = byteLengthOf(ArrayBuffer.prototype);
const sharedBufferLength = typeof SharedArrayBuffer === "function"
  ? byteLengthOf(SharedArrayBuffer.prototype)
  : undefined;

/**
 * Whether `value` is an `ArrayBuffer` or `SharedArrayBuffer`, from this realm
 * or another (a `node:vm` context, an iframe): the built-in `byteLength`
 * getters accept exactly those, where `instanceof` knows only this realm's.
 */
export function isBuffer(value: unknown): value is ArrayBuffer | SharedArrayBuffer {
  return hasBrand(arrayBufferLength, value) ||
    (sharedBufferLength !== undefined && hasBrand(sharedBufferLength, value));
}

function hasBrand(getter: () => unknown, value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  try {
    getter.call(value);
    return true;
  } catch {
    return false;
  }
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "object" || typeof value === "function") {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    // "an ArrayBuffer", "an Object", but "a Uint8Array".
    return name ? `${/^(?!uint)[aeiou]/i.test(name) ? "an" : "a"} ${name}` : `an ${typeof value}`;
  }
  return `${typeof value} ${String(value)}`;
}
