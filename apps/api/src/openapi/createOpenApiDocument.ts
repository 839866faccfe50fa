import type { oas31, ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { createDocument } from 'zod-openapi';
import type { ApiOperation } from './apiOperations.ts';
import { API_OPERATIONS } from './apiOperations.ts';

/** What the document says about the deployment it is served by. */
export interface OpenApiDocumentOptions {
  /** Base URL clients call (`PUBLIC_URL`); omitted from the document when undefined. */
  publicUrl?: string | undefined;
  /** Whether GET routes need a token too (`READS_REQUIRE_AUTH`). @defaultValue false */
  readsRequireAuth?: boolean;
  /** Document version. @defaultValue '0.0.0' */
  version?: string;
}

/**
 * Builds the OpenAPI 3.1 document of the API with zod-openapi from {@link API_OPERATIONS}: request
 * parameters and bodies from the routers' own zod schemas, response bodies (errors included) from
 * `responseSchemas.ts`, and each operation's example request.
 *
 * Security as documented: a bearer scheme; writes list it as required, reads list it as optional
 * (`{}` first) unless reads require auth. Whether tokens are configured at all is a deployment
 * setting the document does not reveal.
 */
export function createOpenApiDocument(options: OpenApiDocumentOptions = {}): oas31.OpenAPIObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const operation of API_OPERATIONS) {
    paths[operation.path] = { ...paths[operation.path], [operation.method]: toOperationObject(operation, options) };
  }
  const document = createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Tasklane API',
        version: options.version ?? '0.0.0',
        description: DOCUMENT_DESCRIPTION,
        // No license file in the repository (every package.json is private): npm's word for "none granted".
        license: { name: 'UNLICENSED' },
      },
      servers: options.publicUrl
        ? [{ url: options.publicUrl.replace(/\/+$/, ''), description: 'This deployment (PUBLIC_URL).' }]
        : [{ url: '/', description: 'The server that serves this document (PUBLIC_URL is not set).' }],
      tags: [
        { name: 'Resources', description: 'Resources: upsert with an `info` map (conditional with `If-Match` / `If-None-Match`), read back with the `ETag`, and their context records.' },
        { name: 'ETL runs', description: 'The background runs that turn `info` into context records: list, inspect, figures per lane, retry.' },
        { name: 'Operations', description: 'Health, readiness, Prometheus metrics and this document, for load balancers, orchestrators and people.' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from API_TOKENS (writes and reads) or API_READ_TOKENS (reads only).' },
        },
      },
      paths,
    },
    {
      // The JSON-object checks of the PUT body are z.custom (isJsonObject): render them as any JSON
      // object. `additionalProperties: {}` says so explicitly, so generators type them as
      // `Record<string, unknown>` (openapi-typescript makes a bare `type: object` `Record<string, never>`).
      override: ({ jsonSchema, zodSchema }) => {
        if (zodSchema._zod.def.type === 'custom') {
          jsonSchema.type = 'object';
          jsonSchema.additionalProperties = {};
        }
      },
      allowEmptySchema: { custom: true },
    },
  );
  addParameterExamples(document);
  return document;
}

function toOperationObject(operation: ApiOperation, options: OpenApiDocumentOptions): ZodOpenApiOperationObject {
  const security: oas31.SecurityRequirementObject[] =
    operation.access === 'write' ? [{ bearerAuth: [] }] : operation.access === 'read' && !options.readsRequireAuth ? [{}, { bearerAuth: [] }] : operation.access === 'read' ? [{ bearerAuth: [] }] : [];
  const request = operation.request ?? {};
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    security,
    ...(request.path || request.query || request.header
      ? { requestParams: { ...(request.path ? { path: request.path } : {}), ...(request.query ? { query: request.query } : {}), ...(request.header ? { header: request.header } : {}) } }
      : {}),
    ...(request.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: request.body,
                ...(operation.example?.body === undefined ? {} : { examples: { example: { summary: 'An example request', value: operation.example.body } } }),
              },
            },
          },
        }
      : {}),
    responses: operation.responses,
    // Parameter examples are attached after generation (zod-openapi derives parameters from the schemas).
    ...(operation.example ? { 'x-example-request': { path: operation.example.path, query: operation.example.query, header: operation.example.header } } : {}),
  };
}

/**
 * What the whole document says once rather than on every operation: headers of every response, the
 * error body, the 405 (which OpenAPI cannot attach to an operation that does not exist).
 */
const DOCUMENT_DESCRIPTION = [
  'Resources and the ETL runs that turn their `info` into context records.',
  '',
  '- Every response carries `X-Request-Id` (the client’s, or a new UUID), and the security headers of helmet (`Content-Security-Policy`, `Strict-Transport-Security`, `X-Content-Type-Options`, …).',
  '- Errors share one body, `{ "error": { "code", "message", "details"? } }`.',
  '- A method a path does not serve is a 405 with `Allow` listing the methods it does (`HEAD` with every `GET`); `OPTIONS` answers 200 with `Allow` (with CORS_ORIGINS set, a CORS preflight answers 204).',
  '- `/resources/{id}` has a strong `ETag`, `"<version>"`: `If-Match` and `If-None-Match` make a PUT conditional (412, nothing written) and a GET cheap (304).',
].join('\n');

/** Moves each operation's `x-example-request` values onto its generated parameters as `example`. */
function addParameterExamples(document: oas31.OpenAPIObject): void {
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of ['get', 'put', 'post'] as const) {
      const operation = (item as oas31.PathItemObject)[method] as (oas31.OperationObject & { 'x-example-request'?: Record<string, Record<string, string> | undefined> }) | undefined;
      const example = operation?.['x-example-request'];
      if (!operation || !example) continue;
      delete operation['x-example-request'];
      for (const parameter of operation.parameters ?? []) {
        if (!('in' in parameter)) continue;
        const value = example[parameter.in]?.[parameter.name];
        if (value === undefined) continue;
        // Examples are written as a client sends them (strings); a numeric parameter's example is its number.
        const type = (parameter.schema as oas31.SchemaObject | undefined)?.type;
        parameter.example = (type === 'integer' || type === 'number') && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
      }
    }
  }
}
