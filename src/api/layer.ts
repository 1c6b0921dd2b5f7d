/**
 * Layers: the one way anything attaches to a single pool after it is made.
 *
 * A layer is an object of methods put in front of one pool's prototype.
 * Its methods call the layer below through `below` (the prototype the pool
 * had), so layers stack: debug mode goes on first, when the pool is made,
 * and a trace recorder started later goes on top of it and sees what the
 * user asked for. Removing a layer puts the prototype below it back, so the
 * pool returns to the hidden class it had. A pool with no layer runs the
 * `Pool` class's own methods and pays nothing for the mechanism.
 *
 * Debug mode lives in a layer above this one (`src/debug/`), yet the `Pool`
 * constructor is where `{ debug: true }` is read; so debug mode registers
 * its installer here when its module loads (`mod.ts` loads it), and the
 * constructor calls it through `installDebugLayer`.
 *
 * @module
 */

import type { Tlsf } from "../engine/tlsf.ts";
import type { Pool } from "./pool.ts";

/** The pool methods a layer may stand in for. */
export type LayerMethods = Partial<
  Pick<
    Pool,
    | "allocate"
    | "deallocate"
    | "resize"
    | "realloc"
    | "alloc"
    | "free"
    | "sizeOf"
    | "largestFreeBlock"
    | "check"
    | "leaks"
  >
>;

/** A layer on a pool. */
export interface Layer {
  /** The prototype the pool had: call through it to reach the layer below. */
  readonly below: Pool;
  /** Takes the layer off; it must be the pool's top layer. */
  remove(): void;
}

/** Puts `methods` in front of `pool`'s prototype, as its new top layer. */
export function pushLayer(pool: Pool, methods: LayerMethods): Layer {
  const below = Object.getPrototypeOf(pool) as Pool;
  // A prototype rather than own properties: own properties would hide every layer
  // above, and deleting them would leave the pool in another hidden class.
  const layer = Object.create(below, Object.getOwnPropertyDescriptors(methods)) as Pool;
  Object.setPrototypeOf(pool, layer);
  return {
    below,
    remove() {
      if (Object.getPrototypeOf(pool) !== layer) {
        throw new Error("Only a pool's top layer can be taken off.");
      }
      Object.setPrototypeOf(pool, below);
    },
  };
}

/** Installs debug mode on a new pool whose engine is `tlsf`. */
export type DebugInstaller = (pool: Pool, tlsf: Tlsf) => void;

let debugInstaller: DebugInstaller | undefined;

/** Called once by debug mode's module as it loads. */
export function registerDebugLayer(install: DebugInstaller): void {
  debugInstaller = install;
}

/** Puts debug mode's layer on `pool`, before any block exists. */
export function installDebugLayer(pool: Pool, tlsf: Tlsf): void {
  if (debugInstaller === undefined) {
    throw new Error(
      "Debug mode is not loaded: import Pool from the package's entry (mod.ts), which loads it.",
    );
  }
  debugInstaller(pool, tlsf);
}
