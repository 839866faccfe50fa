// `npm run demo`: replays GitHub's public webhook example payloads against a running Tasklane API
// and prints what happened to them. See parseArgs.ts (USAGE) for options and exit codes.
import { randomBytes } from 'node:crypto';
import type { WebhookPayload } from '@tasklane/webhook-corpus';
import { loadPayloads } from '@tasklane/webhook-corpus';
import type { DemoArgs } from './parseArgs.ts';
import { USAGE, UsageError, parseDemoArgs } from './parseArgs.ts';
import { formatSummary } from './printSummary.ts';
import { replayPayloads } from './replayPayloads.ts';
import type { DemoSummary } from './summarizeRuns.ts';
import { summarizeRuns } from './summarizeRuns.ts';
import { createTasklaneClient } from '@tasklane/client';
import type { DemoClient, Lane } from './demoClient.ts';
import { createDemoClient } from './demoClient.ts';
import { waitForRuns } from './waitForRuns.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** Least time between two progress lines, in ms. */
const PROGRESS_EVERY_MS = 2000;

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseDemoArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    console.log(USAGE);
    return EXIT_OK;
  }

  const payloads = await loadPayloads();
  const client = createDemoClient({ api: createTasklaneClient({ baseUrl: parsed.url, token: parsed.token }) });
  // One tag per demo run: base-36 time plus randomness, so repeated or parallel demos never share ids.
  const runTag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const events = new Set(payloads.map((p) => p.event)).size;
  console.error(`Tasklane demo ${runTag}: ${payloads.length} GitHub webhook payloads (${events} event types) → ${parsed.url}`);

  const lanes: readonly (Lane | undefined)[] = parsed.lanes.length > 0 ? parsed.lanes : [undefined];
  const summaries: DemoSummary[] = [];
  for (const lane of lanes) {
    // One tag per pass, so each lane writes its own resources and the rows compare like with like.
    const passTag = lane === undefined ? runTag : `${runTag}-${lane}`;
    summaries.push(await runPass({ client, payloads, runTag: passTag, args: parsed, lane }));
  }
  console.log(formatSummary(summaries));
  return summaries.every((s) => s.problems.length === 0) ? EXIT_OK : EXIT_FAILED;
}

/**
 * One pass: replay every payload on one lane, wait for the runs, sum up. The `--lane all` of a
 * later issue calls this once per lane (with a lane-specific `runTag`, so each pass creates its
 * own resources) and prints the summaries side by side.
 */
async function runPass(options: {
  client: DemoClient;
  payloads: readonly WebhookPayload[];
  runTag: string;
  args: DemoArgs;
  lane: Lane | undefined;
}): Promise<DemoSummary> {
  const { client, payloads, runTag, args, lane } = options;
  const label = lane ?? 'default lane';
  console.error(`[${label}] sending PUT /resources/demo-${runTag}-<event>-<n>, ${args.concurrency} at a time…`);
  const replies = await replayPayloads({ client, payloads, runTag, concurrency: args.concurrency, ...(lane === undefined ? {} : { lane }) });
  const runIds = replies.flatMap((reply) => (reply.run === null ? [] : [reply.run.id]));
  console.error(`[${label}] ${runIds.length} of ${replies.length} accepted; waiting up to ${args.timeoutMs / 1000} s for their runs…`);
  let lastProgressAt = Date.now();
  const wait = await waitForRuns({
    client,
    runIds,
    concurrency: args.concurrency,
    timeoutMs: args.timeoutMs,
    onProgress: (finished, total) => {
      if (finished < total && Date.now() - lastProgressAt < PROGRESS_EVERY_MS) return;
      lastProgressAt = Date.now();
      console.error(`[${label}] ${finished}/${total} runs finished`);
    },
  });
  return summarizeRuns({ lane, replies, wait, timeoutMs: args.timeoutMs });
}

process.exitCode = await main(process.argv.slice(2), process.env).catch((error: unknown) => {
  console.error('demo failed:', error);
  return EXIT_FAILED;
});
