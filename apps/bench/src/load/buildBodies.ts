import { measureInfo } from '@tasklane/etl';
import type { WebhookPayload } from '@tasklane/webhook-corpus';

/**
 * PUT bodies of the bench, one per webhook example, shaped as the demo sends them:
 * `{ "name": "<event>#<n>", "info": <payload> }`. Built once, before any load, so the load
 * generator only picks strings.
 */
export function buildCorpusBodies(payloads: readonly WebhookPayload[]): string[] {
  return payloads.map(({ event, n, payload }) => JSON.stringify({ name: `${event}#${n}`, info: payload }));
}

/**
 * Heavy `info` maps for the cheap-GET probe: each merges consecutive webhook examples under
 * `<event>_<n>` keys until the next one would pass `leaves` leaf values (the API accepts 10,000).
 * Map `i` starts at a different example, so no two are alike.
 *
 * @returns `count` bodies and the leaf count of each
 */
export function buildHeavyBodies(payloads: readonly WebhookPayload[], options: { leaves: number; count: number }): { bodies: string[]; leafCounts: number[] } {
  const bodies: string[] = [];
  const leafCounts: number[] = [];
  const stride = Math.max(1, Math.floor(payloads.length / Math.max(1, options.count)));
  for (let i = 0; i < options.count; i++) {
    const info: Record<string, unknown> = {};
    let leaves = 0;
    for (let j = 0; j < payloads.length; j++) {
      const { event, n, payload } = payloads[(i * stride + j) % payloads.length]!;
      const more = measureInfo(payload).leafCount;
      if (leaves + more > options.leaves) break;
      info[`${event}_${n}`] = payload;
      leaves += more;
    }
    bodies.push(JSON.stringify({ name: `heavy#${i}`, info }));
    leafCounts.push(leaves);
  }
  return { bodies, leafCounts };
}

/** Mean and largest leaf count of the payloads (the issue quotes 193 and 520 for the corpus). */
export function describeCorpus(payloads: readonly WebhookPayload[]): { payloads: number; events: number; meanLeaves: number; maxLeaves: number; meanBytes: number } {
  const leaves = payloads.map((p) => measureInfo(p.payload).leafCount);
  const bytes = payloads.map((p) => JSON.stringify(p.payload).length);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return {
    payloads: payloads.length,
    events: new Set(payloads.map((p) => p.event)).size,
    meanLeaves: Math.round(mean(leaves) * 10) / 10,
    maxLeaves: Math.max(...leaves),
    meanBytes: Math.round(mean(bytes)),
  };
}
