import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** One webhook example to replay: the `n`th (1-based) example payload of `event`. */
export interface WebhookPayload {
  /** GitHub webhook event name, e.g. `check_run`. */
  event: string;
  /** 1-based position among the event's examples. */
  n: number;
  payload: Record<string, unknown>;
}

/** The shape of `@octokit/webhooks-examples/api.github.com/index.json` that the corpus reads. */
export interface WebhookDefinition {
  name: string;
  examples: unknown[];
}

/**
 * Flattens webhook definitions into payloads, in file order. Examples that are not JSON objects
 * (none are, in 7.6.1) are refused rather than skipped, so the count the demo prints (and the bench
 * loads) is the count in the package.
 *
 * @throws TypeError when the definitions are not `[{ name: string, examples: object[] }]`
 */
export function flattenWebhookExamples(definitions: unknown): WebhookPayload[] {
  if (!Array.isArray(definitions)) throw new TypeError('webhook examples: expected an array of definitions');
  const payloads: WebhookPayload[] = [];
  for (const [position, definition] of definitions.entries()) {
    if (!isObject(definition) || typeof definition.name !== 'string' || !Array.isArray(definition.examples)) {
      throw new TypeError(`webhook examples: definition ${position} is not { name, examples: [...] }`);
    }
    for (const [index, example] of definition.examples.entries()) {
      if (!isObject(example)) throw new TypeError(`webhook examples: ${definition.name} example ${index + 1} is not an object`);
      payloads.push({ event: definition.name, n: index + 1, payload: example });
    }
  }
  return payloads;
}

/**
 * Reads the github.com webhook examples shipped by `@octokit/webhooks-examples` (its package
 * `main`, `api.github.com/index.json`) and flattens them with {@link flattenWebhookExamples}.
 */
export async function loadPayloads(): Promise<WebhookPayload[]> {
  const path = createRequire(import.meta.url).resolve('@octokit/webhooks-examples');
  return flattenWebhookExamples(JSON.parse(await readFile(path, 'utf8')));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
