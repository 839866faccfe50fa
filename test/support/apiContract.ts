// The OpenAPI document as the contract of every response the tests receive from the API (issue #12,
// point 1): `checkResponse` validates one real HTTP response — its status is documented for the
// operation, every documented required header is present and has the documented form, no header
// beyond the generic ones is undocumented, and the body is of a documented media type and matches its
// schema (Ajv over the document's own JSON Schemas, compiled once per response). The shared HTTP
// helpers (apiClient.ts `request`, rawHttp.ts `sendRaw`) run it on every response from a server
// registered with `underContract` (startApi, startOpsApp, spawnApi and the tests that build their
// own app), so an undocumented status or header fails the test that received it.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { createOpenApiDocument } from '../../apps/api/src/openapi/createOpenApiDocument.ts';

/** The parts of OpenAPI 3.1 objects this module reads. */
interface HeaderObject {
  required?: boolean;
  schema?: unknown;
}
interface ResponseObject {
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: unknown }>;
}
interface OperationObject {
  operationId?: string;
  responses?: Record<string, ResponseObject>;
}

/** One response as received, whatever the client that received it. */
export interface ObservedResponse {
  /** The request's method, or undefined when the request was not HTTP at all. */
  method: string | undefined;
  /** The request target as sent (`/resources/x?lane=queue`), or undefined when unknown. */
  target: string | undefined;
  status: number;
  /** Response headers, names in any case. */
  headers: Readonly<Record<string, string>> | Headers;
  body: string;
}

/** Headers every response may carry without the document naming them on the operation (its `info.description` says so). */
const GENERIC_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'vary',
  'cache-control',
  // helmet's security headers (apps/api/src/ops/securityHeaders.ts)
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'cross-origin-embedder-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
]);

/**
 * The board is an operator's UI beside the API, not part of the API's contract (at its default path;
 * mounted elsewhere, its paths are simply not in the document, and only its errors' bodies are checked).
 */
const UNCONTRACTED_PREFIXES = ['/admin/queues'];

const BASE = 'https://tasklane.invalid/openapi.json';

interface Contract {
  /** By path template, literal paths before templated ones (as the router matches `/etl-runs/stats`). */
  paths: { path: string; pattern: RegExp; methods: Map<string, OperationObject> }[];
  ajv: Ajv2020;
  validators: Map<string, ValidateFunction>;
}

let contract: Contract | undefined;

/** Builds the document (the same function the API serves `/openapi.json` from) and the Ajv instance, once. */
function loadContract(): Contract {
  if (contract) return contract;
  const document = createOpenApiDocument();
  // OpenAPI 3.1 schemas are JSON Schema 2020-12; `example` and the like are annotations (strict off).
  // Formats are checked by the patterns zod also emits (date-time, uuid).
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, formats: { 'date-time': true, uuid: true } });
  ajv.addSchema({ ...document, $id: BASE } as object);
  const paths = Object.entries(document.paths ?? {})
    .map(([path, item]) => ({
      path,
      pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      methods: new Map(
        Object.entries(item as Record<string, unknown>)
          .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method))
          .map(([method, operation]) => [method.toUpperCase(), operation as OperationObject]),
      ),
    }))
    .sort((a, b) => (a.path.includes('{') ? 1 : 0) - (b.path.includes('{') ? 1 : 0));
  contract = { paths, ajv, validators: new Map() };
  return contract;
}

/** A validator for the schema at a JSON pointer into the document, compiled once. */
function validatorAt(pointer: string[]): ValidateFunction {
  const { ajv, validators } = loadContract();
  const ref = `${BASE}#/${pointer.map((token) => token.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

const registered = new Set<string>();

/**
 * Puts every later response from `baseUrl`'s origin under the contract (the shared helpers then
 * check them). Call it for each API a test starts; not for the worker's ops port or other servers.
 * @returns a function that takes the origin out again (call it when the server closes)
 */
export function underContract(baseUrl: string): () => void {
  const origin = new URL(baseUrl).origin;
  registered.add(origin);
  return () => registered.delete(origin);
}

/** Whether responses from this URL's origin are checked against the contract. */
export function isUnderContract(url: string | URL): boolean {
  try {
    return registered.has(new URL(url).origin);
  } catch {
    return false;
  }
}

function headerMap(headers: ObservedResponse['headers']): Map<string, string> {
  const map = new Map<string, string>();
  if (headers instanceof Headers) headers.forEach((value, name) => map.set(name.toLowerCase(), value));
  else for (const [name, value] of Object.entries(headers)) map.set(name.toLowerCase(), value);
  return map;
}

function ajvErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}

/** Checks a JSON error body (`{ error: { code, message } }`) by the document's Error schema. */
function checkErrorBody(response: ObservedResponse, problems: string[]): void {
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    problems.push(`a ${response.status} whose body is not JSON: ${JSON.stringify(response.body.slice(0, 200))}`);
    return;
  }
  const validate = validatorAt(['components', 'schemas', 'Error']);
  if (!validate(body)) problems.push(`a ${response.status} whose body is not the Error schema: ${ajvErrors(validate)}`);
}

/**
 * The ways `response` breaks the contract (empty when it keeps it). Responses to paths the document
 * does not describe are checked only as far as the document says something about them: a 404 has
 * the error body, a method a documented path does not serve is a 405 with `Allow` naming exactly
 * the documented methods. Bull Board's paths are not under the contract.
 */
export function contractViolations(response: ObservedResponse): string[] {
  const { paths } = loadContract();
  const problems: string[] = [];
  const headers = headerMap(response.headers);
  const requestId = headers.get('x-request-id');
  if (!requestId) problems.push('no X-Request-Id (the document promises it on every response)');

  let pathname: string | undefined;
  try {
    pathname = response.target === undefined ? undefined : new URL(response.target, 'http://request-target.invalid').pathname;
  } catch {
    pathname = undefined;
  }
  if (pathname !== undefined && UNCONTRACTED_PREFIXES.some((prefix) => pathname === prefix || pathname!.startsWith(`${prefix}/`))) return [];
  const method = response.method?.toUpperCase();
  const item = pathname === undefined ? undefined : paths.find((candidate) => candidate.pattern.test(pathname!));
  if (!item || !method) {
    // No operation to hold it to: an unparsable request, a path the API does not serve (a 404), or
    // the board at a custom path (whose pages are not the API's).
    if (response.status >= 400) checkErrorBody(response, problems);
    return problems;
  }

  let operation = item.methods.get(method);
  const isHead = method === 'HEAD';
  if (!operation && isHead) operation = item.methods.get('GET');
  if (!operation) {
    const documented = [...item.methods.keys()];
    const allowed = new Set([...documented, ...(documented.includes('GET') ? ['HEAD'] : [])]);
    if (method === 'OPTIONS') {
      // koa-router's OPTIONS answer (200 + Allow) or a CORS preflight (204).
      if (response.status === 200) {
        const allow = new Set((headers.get('allow') ?? '').split(/,\s*/).filter(Boolean));
        for (const name of allowed) if (!allow.has(name)) problems.push(`OPTIONS ${pathname}: Allow lacks ${name}`);
      } else if (response.status !== 204) problems.push(`OPTIONS ${pathname} answered ${response.status}`);
      return problems;
    }
    if (response.status === 405) {
      const allow = (headers.get('allow') ?? '').split(/,\s*/).filter(Boolean).sort();
      if (JSON.stringify(allow) !== JSON.stringify([...allowed].sort())) problems.push(`405 for ${method} ${pathname}: Allow is ${JSON.stringify(allow)}, the document serves ${JSON.stringify([...allowed].sort())}`);
      checkErrorBody(response, problems);
    } else if (![400, 408, 413, 431].includes(response.status)) {
      problems.push(`${method} ${pathname} is not an operation of the document, yet it answered ${response.status} (a 405 with Allow was due)`);
    }
    return problems;
  }

  const operationName = `${operation.operationId ?? `${method} ${item.path}`}`;
  const responses = operation.responses ?? {};
  const statusKey = String(response.status);
  const rangeKey = `${statusKey[0]}XX`;
  const key = statusKey in responses ? statusKey : rangeKey in responses ? rangeKey : 'default' in responses ? 'default' : undefined;
  if (key === undefined) {
    problems.push(`${operationName} answered ${response.status}, which the document does not list (it lists ${Object.keys(responses).join(', ')})`);
    return problems;
  }
  const documented = responses[key] as ResponseObject;
  const pointer = ['paths', item.path, (isHead && !item.methods.has('HEAD') ? 'GET' : method).toLowerCase(), 'responses', key];

  // Headers: the required ones present, each sent one of the documented form, none undocumented.
  const documentedHeaders = new Map(Object.entries(documented.headers ?? {}).map(([name, header]) => [name.toLowerCase(), { name, header: header as HeaderObject }]));
  for (const [lower, { name, header }] of documentedHeaders) {
    const value = headers.get(lower);
    if (value === undefined) {
      if (header.required) problems.push(`${operationName} ${response.status} lacks the required header ${name}`);
      continue;
    }
    if (header.schema) {
      const validate = validatorAt([...pointer, 'headers', name, 'schema']);
      if (!validate(value)) problems.push(`${operationName} ${response.status} header ${name}: ${JSON.stringify(value)} ${ajvErrors(validate)}`);
    }
  }
  for (const name of headers.keys()) {
    if (!GENERIC_HEADERS.has(name) && !documentedHeaders.has(name) && !name.startsWith('access-control-')) {
      problems.push(`${operationName} ${response.status} sends the header ${name}, which the document does not list for it`);
    }
  }

  // Body: of a documented media type, matching its schema; none where the document gives no content.
  const content = documented.content ?? {};
  const mediaTypes = Object.keys(content);
  if (isHead) return problems;
  if (mediaTypes.length === 0) {
    if ((response.status === 304 || response.status === 204) && response.body !== '') problems.push(`${operationName} ${response.status} has a body`);
    return problems;
  }
  const type = (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!mediaTypes.includes(type)) {
    problems.push(`${operationName} ${response.status} is ${JSON.stringify(type)}, the document says ${mediaTypes.join(' or ')}`);
    return problems;
  }
  if (type === 'application/json' && content[type]?.schema) {
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      problems.push(`${operationName} ${response.status} body is not JSON`);
      return problems;
    }
    const validate = validatorAt([...pointer, 'content', type, 'schema']);
    if (!validate(body)) problems.push(`${operationName} ${response.status} body: ${ajvErrors(validate)}`);
  }
  return problems;
}

/** An error naming every way a response broke the contract. */
export class ContractViolationError extends Error {
  constructor(
    readonly response: ObservedResponse,
    readonly violations: readonly string[],
  ) {
    super(
      `the response to ${response.method ?? '?'} ${response.target ?? '?'} (${response.status}) breaks the OpenAPI document:\n- ${violations.join('\n- ')}\n` +
        `body: ${response.body.slice(0, 500)}`,
    );
    this.name = 'ContractViolationError';
  }
}

/**
 * Throws {@link ContractViolationError} when `response` breaks the contract (see
 * {@link contractViolations}); the shared HTTP helpers call it on every response from a server
 * {@link underContract}.
 */
export function checkResponse(response: ObservedResponse): void {
  const violations = contractViolations(response);
  if (violations.length > 0) throw new ContractViolationError(response, violations);
}
