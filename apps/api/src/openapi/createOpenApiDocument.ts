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
        description:
          'Resources and the ETL runs that turn their `info` into context records. Every response carries `X-Request-Id`; ' +
          'errors share one body, `{ "error": { "code", "message", "details"? } }`.',
      },
      ...(options.publicUrl ? { servers: [{ url: options.publicUrl.replace(/\/+$/, '') }] } : {}),
      tags: [{ name: 'Resources' }, { name: 'ETL runs' }, { name: 'Operations' }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from API_TOKENS (writes and reads) or API_READ_TOKENS (reads only).' },
        },
      },
      paths,
    },
    {
      // The JSON-object checks of the PUT body are z.custom (isJsonObject): render them as objects.
      override: ({ jsonSchema, zodSchema }) => {
        if (zodSchema._zod.def.type === 'custom') jsonSchema.type = 'object';
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
        if (value !== undefined) parameter.example = value;
      }
    }
  }
}
