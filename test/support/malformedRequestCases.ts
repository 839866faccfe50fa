// The cases of issue #9, "What must hold" 7, shared by every Tasklane HTTP server (the API and the
// worker's ops server): each is sent over a raw socket and must get a JSON answer below 500.
import { expect, it } from 'vitest';
import { MALFORMED_REQUESTS, NODE_MAX_HEADER_BYTES, sendRaw } from './rawHttp.ts';

/**
 * Declares, inside the caller's `describe`, one test per malformed request plus the keep-alive cases.
 * @param baseUrl - the server's `http://host:port`, read when the tests run
 * @param okPath - a path the server answers 200 with a JSON body
 */
export function itAnswersMalformedRequestsWithJson(baseUrl: () => string, okPath = '/healthz'): void {
  it.each(MALFORMED_REQUESTS)('$name: $status with a JSON error body', async ({ bytes, status }) => {
    const { responses, raw } = await sendRaw(baseUrl(), bytes);
    expect(responses.map((r) => r.status), raw.slice(0, 500)).toEqual([status]);
    const [response] = responses;
    expect(response!.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response!.body)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  it('answers a well-formed request after them', async () => {
    const { responses } = await sendRaw(baseUrl(), `GET ${okPath} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    expect(responses.map((r) => r.status)).toEqual([200]);
  });

  it('answers oversize headers on a keep-alive connection with a second, JSON, response after the first', async () => {
    const first = `GET ${okPath} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const second = `GET ${okPath} HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(NODE_MAX_HEADER_BYTES + 1)}\r\n\r\n`;
    const { responses, raw } = await sendRaw(baseUrl(), [first, second]);
    expect(responses.map((r) => r.status), raw.slice(0, 500)).toEqual([200, 431]);
    expect(JSON.parse(responses[1]!.body)).toEqual({ error: { code: 'request_header_fields_too_large', message: expect.any(String) } });
  });

  it('never answers a parse error ahead of a response still owed on the connection', async () => {
    // Pipelined: the second request's headers overflow while the first is being answered. An
    // error response now would be read as the answer to the first request.
    const first = `GET ${okPath} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const second = `GET ${okPath} HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(NODE_MAX_HEADER_BYTES + 1)}\r\n\r\n`;
    const { responses, raw } = await sendRaw(baseUrl(), first + second);
    expect(responses[0]?.status ?? 'none', raw.slice(0, 300)).not.toBe(431);
  });
}
