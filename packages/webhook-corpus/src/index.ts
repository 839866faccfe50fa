// The webhook corpus the demo replays and the bench loads: GitHub's own webhook examples.
export { flattenWebhookExamples, loadPayloads } from './loadPayloads.ts';
export type { WebhookDefinition, WebhookPayload } from './loadPayloads.ts';
