// A small fetch-based client for the Tasklane HTTP API, shared by the in-process API tests and the
// end-to-end tests against the API process. Every response from an API `underContract` is checked
// against the OpenAPI document (apiContract.ts): a response that breaks it throws.
import { checkResponse, isUnderContract } from './apiContract.ts';

/** A request body as sent on the wire. */
export interface RawBody {
  /** The bytes (a string is sent as UTF-8). Omit for no body at all. */
  body?: string | Uint8Array;
  /**
   * The `Content-Type` header; `null` sends none (the body then goes out as bytes, because fetch
   * would label a string `text/plain`). @defaultValue `application/json`
   */
  contentType?: string | null;
}

/** A response with its body read: `json` is the parsed body, or undefined when it is not JSON. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** The JSON error body every 4xx/5xx of the API carries. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Sends one request and reads the whole response. */
export async function request(
  baseUrl: string,
  method: string,
  path: string,
  options: RawBody & { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined = options.body;
  if (options.contentType === null) {
    if (typeof body === 'string') body = new TextEncoder().encode(body);
  } else if (body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const url = new URL(path, baseUrl);
  const response = await fetch(url, { method, headers, body, signal: options.signal });
  const text = await response.text();
  if (isUnderContract(url)) checkResponse({ method, target: url.pathname + url.search, status: response.status, headers: response.headers, body: text });
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The path of a resource: `/resources/<id, percent-encoded>`. */
export function resourcePath(id: string): string {
  return `/resources/${encodeURIComponent(id)}`;
}

/** `PUT /resources/:id` with a JSON body built from `body` (or raw bytes). */
export function putResource(
  baseUrl: string,
  id: string,
  body: unknown,
  options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ApiResponse> {
  return request(baseUrl, 'PUT', resourcePath(id), { body: JSON.stringify(body), ...options });
}
