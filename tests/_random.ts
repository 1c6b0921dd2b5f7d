import { Rng } from "../tools/_random_ops.ts";

/** Numbers in [0, 1) from the shared seeded generator: the same for the same seed. */
export function random(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}
