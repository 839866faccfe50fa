// Redocly's recommended ruleset (redocly.yaml at the repository root) on the very document the API
// serves at /openapi.json: no error and no warning (issue #12, "The spec is the contract").
import { fileURLToPath } from 'node:url';
import { lintFromString, loadConfig } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { createOpenApiDocument, type OpenApiDocumentOptions } from './createOpenApiDocument.ts';

const configPath = fileURLToPath(new URL('../../../../redocly.yaml', import.meta.url));

describe('the OpenAPI document under Redocly’s recommended ruleset', () => {
  it.each<[string, OpenApiDocumentOptions]>([
    ['as served by default', {}],
    ['with PUBLIC_URL and READS_REQUIRE_AUTH', { publicUrl: 'https://tasklane.internal.acme.io/api', readsRequireAuth: true }],
  ])('has no error and no warning %s', async (_name, options) => {
    const config = await loadConfig({ configPath });
    const problems = await lintFromString({
      source: JSON.stringify(createOpenApiDocument(options)),
      absoluteRef: '/openapi.json',
      config,
    });
    expect(problems.map((problem) => `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? '?'}`)).toEqual([]);
  });

  it('the ruleset is live: it reports what the issue found on a document without servers or license', async () => {
    const config = await loadConfig({ configPath });
    const { servers: _servers, ...document } = createOpenApiDocument();
    const { license: _license, ...info } = document.info;
    const problems = await lintFromString({ source: JSON.stringify({ ...document, info }), absoluteRef: '/openapi.json', config });
    expect(problems.map((problem) => problem.ruleId).sort()).toEqual(['info-license', 'no-empty-servers']);
  });
});
