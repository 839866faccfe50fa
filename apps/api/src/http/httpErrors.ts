/**
 * One error type per HTTP meaning. Each carries `status`, a stable machine `code`, and `expose`
 * (whether its message may reach the client: always for 4xx, never for 5xx).
 * `errorHandler` turns them into `{ "error": { "code", "message", "details"? } }`.
 */
export class HttpError extends Error {
  readonly expose: boolean;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = new.target.name;
    this.expose = status < 500;
  }
}

/** 400: the request cannot be read at all (malformed JSON, a body that is not a JSON object). */
export class BadRequestError extends HttpError {
  constructor(message: string, details?: unknown) {
    super(400, 'bad_request', message, details);
  }
}

/**
 * 401: no credentials, or credentials that match none configured. Carries the `WWW-Authenticate`
 * challenge (RFC 9110 §11.6.1); for bearer tokens RFC 6750 §3 adds `error="invalid_token"` when a
 * token was sent but is not valid.
 */
export class UnauthorizedError extends HttpError {
  constructor(message: string, challenge = 'Bearer realm="tasklane"') {
    super(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': challenge });
  }
}

/** 403: the credentials are valid but do not allow this request (a read-only token on a write). */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

/** 404: no such resource, run or route. */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** 405: the route exists but not for this method; lists the allowed ones (RFC 9110 §15.5.6). */
export class MethodNotAllowedError extends HttpError {
  constructor(allowed: readonly string[]) {
    super(405, 'method_not_allowed', `method not allowed; use ${allowed.join(', ')}`, undefined, { Allow: allowed.join(', ') });
  }
}

/** 409: the request conflicts with the current state (e.g. retrying a run that is not failed). */
export class ConflictError extends HttpError {
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
  }
}

/** 413: the body is larger than the configured limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `request body exceeds ${limitBytes} bytes`, { limitBytes });
  }
}

/** 415: the body is not `application/json`. */
export class UnsupportedMediaTypeError extends HttpError {
  constructor(received: string | undefined) {
    super(415, 'unsupported_media_type', 'request body must be application/json', { received: received ?? null });
  }
}

/** 422: the JSON is well-formed but breaks a rule (schema, id format, size limits). */
export class ValidationError extends HttpError {
  constructor(message: string, details?: unknown) {
    super(422, 'validation_failed', message, details);
  }
}

/** 429: this client made too many requests; `Retry-After` says in how many seconds to try again (RFC 6585 §4). */
export class TooManyRequestsError extends HttpError {
  constructor(retryAfterSeconds: number, details?: unknown) {
    super(429, 'too_many_requests', `rate limit exceeded; retry in ${retryAfterSeconds} s`, details, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/**
 * 503: a dependency (PostgreSQL, Redis) is unreachable, or the API cannot take more in-process
 * work now (`IN_PROCESS_QUEUE_LIMIT`); the client may retry after `Retry-After` seconds.
 */
export class ServiceUnavailableError extends HttpError {
  constructor(message: string, retryAfterSeconds = 1, details?: unknown) {
    super(503, 'service_unavailable', message, details, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/**
 * 412: a precondition of the request (`If-Match`, `If-None-Match`) does not hold for the resource's
 * current state, so the method was not performed: nothing was written (RFC 9110 §13.1.1, §13.1.2,
 * §15.5.13).
 */
export class PreconditionFailedError extends HttpError {
  constructor(message: string, details?: unknown, headers?: Readonly<Record<string, string>>) {
    super(412, 'precondition_failed', message, details, headers);
  }
}
