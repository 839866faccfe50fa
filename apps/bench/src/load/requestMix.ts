/**
 * Which resource each bench write goes to, drawn from a seeded generator so every lane gets the
 * same stream of writes. A share of the writes hits a few hot ids (a busy repository receives many
 * webhooks: updates that contend on one row), the rest spread over a pool, so a round mixes creates
 * (first write of an id) and updates the way a webhook feed does.
 */
export interface RequestMix {
  /** Ids the non-hot writes spread over, uniformly. @defaultValue 2000 */
  idPool: number;
  /** Number of hot ids. @defaultValue 16 */
  hotIds: number;
  /** Share of writes (0–1) going to a hot id. @defaultValue 0.2 */
  hotShare: number;
}

export const DEFAULT_REQUEST_MIX: RequestMix = { idPool: 2000, hotIds: 16, hotShare: 0.2 };

/** One write: the resource id suffix (the caller adds its round prefix) and which body to send. */
export interface PickedRequest {
  id: string;
  body: number;
}

/**
 * Mulberry32: a tiny, fast, seeded 32-bit PRNG (uniform in [0, 1)); good enough to draw a load mix
 * and, unlike Math.random, reproducible from its seed.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Returns a function drawing the next write of the stream: the same `seed` and `mix` give the same
 * sequence.
 *
 * @param bodyCount - how many distinct bodies to choose from (uniformly)
 */
export function createRequestPicker(mix: RequestMix, seed: number, bodyCount: number): () => PickedRequest {
  const random = createRandom(seed);
  return () => {
    const hot = random() < mix.hotShare;
    const id = hot ? `h${Math.floor(random() * mix.hotIds)}` : `k${Math.floor(random() * mix.idPool)}`;
    return { id, body: Math.floor(random() * bodyCount) };
  };
}
