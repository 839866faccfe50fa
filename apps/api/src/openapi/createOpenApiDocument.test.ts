import { describe, expect, it } from 'vitest';
import { createOpenApiDocument } from './createOpenApiDocument.ts';

describe('createOpenApiDocument', () => {
  it('lists reads as open-or-bearer by default, and as bearer-only when reads require auth', () => {
    const open = createOpenApiDocument();
    const closed = createOpenApiDocument({ readsRequireAuth: true });
    expect(open.paths?.['/etl-runs']?.get?.security).toEqual([{}, { bearerAuth: [] }]);
    expect(closed.paths?.['/etl-runs']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(open.paths?.['/resources/{id}']?.put?.security).toEqual([{ bearerAuth: [] }]);
    expect(open.paths?.['/healthz']?.get?.security).toEqual([]);
  });

  it('names the public URL as the server when one is configured', () => {
    expect(createOpenApiDocument().servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(createOpenApiDocument({ publicUrl: 'https://tasklane.example.com/' }).servers).toEqual([{ url: 'https://tasklane.example.com', description: expect.any(String) }]);
  });

  it('renders the JSON-object fields of the PUT body as any JSON object (a generated client types them Record<string, unknown>)', () => {
    const body = createOpenApiDocument().paths?.['/resources/{id}']?.put?.requestBody as { content: Record<string, { schema: { properties: Record<string, { type?: unknown; additionalProperties?: unknown }> } }> };
    const properties = body.content['application/json']!.schema.properties;
    expect(properties.info).toMatchObject({ type: 'object', additionalProperties: {} });
    expect(properties.attributes).toEqual({ anyOf: [{ type: 'object', additionalProperties: {} }, { type: 'null' }] });
  });
});
