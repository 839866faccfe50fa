// `info` maps for lane tests: real GitHub webhook payloads, and a synthetic CPU-heavy one.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** `@octokit/webhooks-examples`: one entry per webhook event, each with example payloads. */
type WebhookExamples = { name: string; examples: Record<string, unknown>[] }[];

let examples: WebhookExamples | undefined;

/**
 * A real GitHub webhook payload from `@octokit/webhooks-examples`.
 * @param event - the event name (`push`, `pull_request`, …)
 * @param index - which example of that event. @defaultValue 0
 * @throws Error when the package has no such example
 */
export function webhookPayload(event: string, index = 0): Record<string, unknown> {
  examples ??= JSON.parse(
    readFileSync(createRequire(import.meta.url).resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'),
  ) as WebhookExamples;
  const payload = examples.find((entry) => entry.name === event)?.examples[index];
  if (!payload) throw new Error(`@octokit/webhooks-examples has no example ${index} of ${event}`);
  return payload;
}

/**
 * An `info` whose transform is CPU-heavy but that stays within the API's limits (10,000 leaves,
 * 32 levels, 1 MiB body): `leaves` leaves in 90 groups of objects whose strings are RFC 3339
 * timestamps, decimals and sentences, so every leaf goes through string coercion.
 * @param leaves - @defaultValue 9,000 (about 400 KB of JSON)
 * @param seed - varies the values so two infos differ. @defaultValue 0
 */
export function heavyInfo(leaves = 9_000, seed = 0): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  const groups = 90;
  const perGroup = Math.ceil(leaves / groups / 3);
  let leaf = 0;
  for (let g = 0; g < groups && leaf < leaves; g++) {
    const items: Record<string, string>[] = [];
    for (let i = 0; i < perGroup && leaf < leaves; i++, leaf += 3) {
      const n = leaf + seed;
      items.push({
        createdAt: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T10:${String(i % 60).padStart(2, '0')}:00.${String(n % 1000).padStart(3, '0')}+02:00`,
        amount: `${n * 7}.${(n % 97) + 1}`,
        label: `item ${n} of group ${g} with some longer text to carry around`,
      });
    }
    info[`GroupNumber${g}`] = items;
  }
  return info;
}
