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

/**
 * Bodies of (nearly) `limitBytes` each — 1 MiB, the API's default body limit — for the isolation
 * probe (issue #10: "heavy maps, including 1 MiB bodies"); see {@link buildSizedBodies}.
 *
 * @param limitBytes - the largest body the API accepts, in bytes; each body stays 1 KiB under it
 * @returns `count` bodies and the leaf count and byte size of each
 */
export function buildMaxBodies(
  payloads: readonly WebhookPayload[],
  options: { limitBytes: number; maxLeaves: number; count: number },
): { bodies: string[]; leafCounts: number[]; bytes: number[] } {
  return buildSizedBodies(payloads, { bytes: options.limitBytes - 1024, maxLeaves: options.maxLeaves, count: options.count, name: 'max' });
}

/**
 * PUT bodies of about `bytes` bytes each (never more), built from the webhook corpus: payloads that
 * still fit are merged under `<event>_<n>` keys up to `maxLeaves` − 64 leaves or the size; as webhook payloads
 * carry ~53 bytes per leaf, big sizes run out of leaves first (10,000 leaves ≈ 0.5 MiB), so the rest
 * is filled with long text leaves (`notes_<i>`, ≤ 64 KiB each, printable ASCII from the corpus), as
 * issue and pull-request bodies do. Body `i` starts at a different payload, so no two are alike.
 *
 * @param bytes - size of each body in bytes (UTF-8); sizes under one payload are mostly text
 * @param name - the bodies' `name` is `<name>#<i>`
 * @returns `count` bodies and the leaf count and byte size of each
 */
export function buildSizedBodies(
  payloads: readonly WebhookPayload[],
  options: { bytes: number; maxLeaves: number; count: number; name: string },
): { bodies: string[]; leafCounts: number[]; bytes: number[] } {
  const filler = JSON.stringify(payloads.map((p) => p.payload)).replace(/[^\x20-\x7e]|["\\]/g, ' ');
  const target = options.bytes;
  const stride = Math.max(1, Math.floor(payloads.length / Math.max(1, options.count)));
  const out = { bodies: [] as string[], leafCounts: [] as number[], bytes: [] as number[] };
  const sizes = payloads.map(({ event, payload }) => ({ leaves: measureInfo(payload).leafCount, bytes: Buffer.byteLength(JSON.stringify(payload)) + event.length + 8 }));
  for (let i = 0; i < options.count; i++) {
    const info: Record<string, unknown> = {};
    const name = `${options.name}#${i}`;
    let leaves = 0;
    let size = 64;
    for (let j = 0; j < payloads.length; j++) {
      const at = (i * stride + j + 1) % payloads.length;
      const { event, n, payload } = payloads[at]!;
      const { leaves: more, bytes } = sizes[at]!;
      if (leaves + more > options.maxLeaves - 64) break;
      if (size + bytes > target) continue; // a smaller payload further on may still fit
      info[`${event}_${n}`] = payload;
      leaves += more;
      size += bytes;
    }
    let body = JSON.stringify({ name, info });
    for (let k = 0; k < 64; k++) {
      const room = target - Buffer.byteLength(body) - 16 - `"notes_${k}":"",`.length;
      if (room < 16) break;
      const length = Math.min(64 * 1024, room);
      const from = (i * 7919 + k * 104_729) % Math.max(1, filler.length - length);
      info[`notes_${k}`] = filler.slice(from, from + length);
      leaves += 1;
      body = JSON.stringify({ name, info });
    }
    out.bodies.push(body);
    out.leafCounts.push(leaves);
    out.bytes.push(Buffer.byteLength(body));
  }
  return out;
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
