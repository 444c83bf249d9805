/** The runner's PRNG is the project's one (src/util/rng.ts: sfc32 seeded through splitmix32), shared with the client and the tests. */
export { logGamma, Rng } from '../util/rng.ts';
