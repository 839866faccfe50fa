// Raw HTTP/1.1 over a TCP socket (node:net), for requests fetch cannot send: malformed request
// targets, oversize headers, bytes no client library would produce.
import { connect } from 'node:net';
import { checkResponse, isUnderContract } from './apiContract.ts';

/** One response as read off the socket. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** What a connection received. */
export interface RawExchange {
  /** The complete responses received, in order (a response is complete once its Content-Length or last chunk arrived). */
  responses: RawResponse[];
  /** The first response, if any. */
  first: RawResponse | undefined;
  /** Everything received, as text. */
  raw: string;
}

/**
 * Every complete response from an API `underContract` is checked against the OpenAPI document
 * (apiContract.ts) and throws when it breaks it.
 *
 * Connects to `baseUrl`'s host and port, writes `parts[0]`, then each next part once as many
 * complete responses have arrived as parts were written (a keep-alive client's next request), and
 * reads until the server closes the connection.
 * @param options.timeoutMs - stop reading (and report what arrived) after this long. @defaultValue 5000 ms
 */
export async function sendRaw(baseUrl: string, parts: string | readonly string[], options: { timeoutMs?: number } = {}): Promise<RawExchange> {
  const queue = typeof parts === 'string' ? [parts] : [...parts];
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  let received = Buffer.alloc(0);
  let written = 0;
  const writeNext = () => {
    const next = queue.shift();
    if (next === undefined) return;
    written++;
    socket.write(next);
  };
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    if (parseResponses(received.toString('latin1')).length >= written) writeNext();
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => (socket.destroy(), resolve()), options.timeoutMs ?? 5000);
    socket.once('close', () => (clearTimeout(timer), resolve()));
    socket.once('error', () => {}); // a reset after the answer is still an answer
    socket.once('connect', writeNext);
  });
  const responses = parseResponses(received.toString('latin1'));
  if (isUnderContract(baseUrl)) {
    // The i-th complete response answers the i-th request written (HTTP/1.1 answers in order).
    const sent = typeof parts === 'string' ? [parts] : parts;
    responses.forEach((response, i) => {
      const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r?\n/.exec(sent[i] ?? '');
      checkResponse({ method: requestLine?.[1], target: requestLine?.[2], status: response.status, headers: response.headers, body: response.body });
    });
  }
  return { responses, first: responses[0], raw: received.toString('utf8') };
}

/** The complete HTTP/1.1 responses at the start of `text` (latin1, so lengths are bytes). */
function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  for (;;) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) return responses;
    const [statusLine = '', ...headerLines] = rest.slice(0, headEnd).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
    if (status === undefined) return responses;
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body: string;
    let after = headEnd + 4;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      body = '';
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', after);
        if (lineEnd < 0) return responses;
        const size = parseInt(rest.slice(after, lineEnd), 16);
        if (Number.isNaN(size)) return responses;
        if (size === 0) {
          after = lineEnd + 4;
          break;
        }
        if (rest.length < lineEnd + 2 + size + 2) return responses;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        after = lineEnd + 2 + size + 2;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (rest.length < after + length) return responses;
      body = rest.slice(after, after + length);
      after += length;
    }
    responses.push({ status: Number(status), headers, body: Buffer.from(body, 'latin1').toString('utf8') });
    rest = rest.slice(after);
  }
}

/** A request a client can send that no HTTP library would, and what any Tasklane server must answer. */
export interface MalformedRequest {
  name: string;
  bytes: string;
  status: 400 | 431;
}

/** Node's default limit on the request line plus headers (`--max-http-header-size`), in bytes. */
export const NODE_MAX_HEADER_BYTES = 16 * 1024;

/**
 * The requests of issue #9, "What must hold" 7: malformed request targets (absolute-form with a broken
 * host, which the URL parsers behind Koa and the ops server throw on), oversize headers or query
 * (Node's parser refuses them with a bare 431), and bytes that are not HTTP at all.
 */
export const MALFORMED_REQUESTS: readonly MalformedRequest[] = [
  { name: 'absolute-form target with a broken IPv6 host', bytes: 'GET http://[::1/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', status: 400 },
  { name: 'absolute-form target with a broken host on /healthz', bytes: 'GET http://[::1/healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', status: 400 },
  { name: 'absolute-form target with a percent-encoded host', bytes: 'GET http://%zz/healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', status: 400 },
  { name: 'target starting with // and a broken host', bytes: 'GET //[::1/healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', status: 400 },
  { name: 'a write to an absolute-form target with a broken host', bytes: 'PUT http://[::1/resources/x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"info":{}}', status: 400 },
  {
    name: 'a header over 16 KB',
    bytes: `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(NODE_MAX_HEADER_BYTES + 1)}\r\nConnection: close\r\n\r\n`,
    status: 431,
  },
  {
    name: 'a query over 16 KB',
    bytes: `GET /healthz?q=${'a'.repeat(NODE_MAX_HEADER_BYTES + 1)} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    status: 431,
  },
  { name: 'CONNECT, as to a proxy', bytes: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', status: 400 },
  { name: 'a request line that is not HTTP', bytes: 'HELLO THERE\r\n\r\n', status: 400 },
  { name: 'a header line without a colon', bytes: 'GET /healthz HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n', status: 400 },
];
