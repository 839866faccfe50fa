import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parse as parseLegacyUrl } from 'node:url';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** What a client error (a request Node's parser refused) is answered with. */
interface ClientErrorAnswer {
  status: number;
  code: string;
  message: string;
}

const guarded = new WeakSet<Server>();

/**
 * Makes a server answer every request a client can send with a JSON body below 500, in the API's
 * error shape `{ "error": { "code", "message" } }` (issue #9, "What must hold" 7):
 *
 * - A request target that Node's URL parsers cannot read (`GET http://[::1/x`) is answered `400
 *   bad_request` before the server's own `request` listeners see it: Koa (through `parseurl`, i.e.
 *   `url.parse`) and the worker's ops server (`new URL`) would throw on it and answer 500. RFC 9112
 *   §3.2: a server should answer an invalid request-target with 400.
 * - A request Node's parser refuses (`clientError`) gets the status Node's default handler would
 *   send, with a JSON body instead of none: `431` for headers (request line included) over
 *   `--max-http-header-size` (16 KB by default), `413` for oversize chunk extensions, `408` when the
 *   request or headers timeout expires, `400` for anything else. The answer is written only on a
 *   writable socket that owes no earlier response: a parse error in a pipelined request behind one
 *   still being answered would otherwise be read as that request's answer, or corrupt it half-sent
 *   (the rule of Node's `socketOnError`, made stricter). Such a socket is closed unanswered. A
 *   request timeout while a body is still arriving is that request's own answer (408), unless its
 *   response has already begun.
 *
 * Every such answer carries a new `X-Request-Id`, like every response of the API (its OpenAPI
 * document promises one on every response).
 *
 * - A `CONNECT` request, which Node would close unanswered when nothing listens for `connect`,
 *   gets `400 bad_request`: these servers are not proxies.
 *
 * Wraps the `request` listeners registered so far, so call it once the server has its handler and
 * before it listens ({@link listenServer} does). Calling it twice on a server does nothing more.
 */
export function answerMalformedRequests(server: Server): void {
  if (guarded.has(server)) return;
  guarded.add(server);
  /** Responses not finished yet, per connection, in request order. */
  const owed = new WeakMap<Duplex, Set<ServerResponse>>();

  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const pending = owed.get(socket) ?? new Set<ServerResponse>();
    owed.set(socket, pending);
    pending.add(res);
    res.once('finish', () => pending.delete(res));
    res.once('close', () => pending.delete(res));
    if (!isReadableRequestTarget(req.url)) {
      sendJson(res, 400, 'bad_request', 'the request target is not a valid URL (RFC 9112 §3.2)');
      return;
    }
    for (const handler of handlers) handler.call(server, req, res);
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const pending = [...(owed.get(socket) ?? [])];
    // A timeout concerns the request still being received, whose response is the one owed (Node's
    // default answers it 408 too); a parse error concerns a later, pipelined request, behind
    // responses still owed.
    const answersOwedRequest = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && pending.length === 1;
    const blocked = pending.some((res) => res.headersSent) || (pending.length > 0 && !answersOwedRequest);
    if (error.code === 'ECONNRESET' || !socket.writable || blocked) {
      socket.destroy();
      return;
    }
    endWithJson(socket, clientErrorAnswer(error.code));
  });

  // Without a `connect` listener Node closes a CONNECT request's connection unanswered.
  if (server.listenerCount('connect') === 0) {
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => {}); // the client may be gone already; nothing to report
      endWithJson(socket, { status: 400, code: 'bad_request', message: 'CONNECT is not supported: this server is not a proxy' });
    });
  }
}

/** Writes a whole JSON error response on a socket no `ServerResponse` owns, and closes it. */
function endWithJson(socket: Duplex, answer: ClientErrorAnswer): void {
  const body = JSON.stringify({ error: { code: answer.code, message: answer.message } });
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      `X-Request-Id: ${randomUUID()}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** Characters that make parseurl hand an origin-form target to `url.parse` (parseurl's `fastparse`). */
const LEGACY_PARSE_CHARACTERS = /[\t\n\f\r #\u00a0\ufeff]/;

/**
 * Whether both URL parsers a handler may use read the request target: WHATWG `URL` (relative to a
 * placeholder base, for origin-form targets) and the legacy `url.parse` behind Koa's `parseurl`.
 */
function isReadableRequestTarget(target: string | undefined): boolean {
  if (target === undefined || target === '') return false;
  try {
    new URL(target, 'http://request-target.invalid');
    // Only where parseurl itself falls back to url.parse (its `fastparse` takes an origin-form path
    // without these characters on its own), so the common request never calls the deprecated parser
    // (DEP0169) and its warning is printed only when Koa would print it anyway.
    if (target.charCodeAt(0) !== 0x2f || LEGACY_PARSE_CHARACTERS.test(target)) parseLegacyUrl(target);
    return true;
  } catch {
    return false;
  }
}

/** Node's choice of status for a parser error (lib/_http_server.js, `socketOnError`). */
function clientErrorAnswer(code: string | undefined): ClientErrorAnswer {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'request_header_fields_too_large', message: 'the request line and headers exceed 16 KB' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'payload_too_large', message: 'the chunk extensions are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request was not received in time' };
    default:
      return { status: 400, code: 'bad_request', message: 'the request is not valid HTTP/1.1' };
  }
}

function sendJson(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Request-Id': randomUUID(),
    Connection: 'close',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
