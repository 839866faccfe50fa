// packages/client's generated files (the API's OpenAPI document and the openapi-typescript types)
// must be what `npm run client:generate` would write from the API's current schemas: regenerated
// here in memory and compared with the committed files. Pure; no services.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLIENT_FILES, renderClientFiles } from '../scripts/client/renderClientFiles.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the typed client’s generated files', () => {
  it('match what `npm run client:generate` writes from the API’s current OpenAPI document', async () => {
    const rendered = await renderClientFiles();
    expect(Object.keys(rendered).sort()).toEqual(Object.values(CLIENT_FILES).sort());
    const stale: string[] = [];
    for (const [path, text] of Object.entries(rendered)) {
      const committed = await readFile(`${root}${path}`, 'utf8').catch(() => null);
      if (committed !== text) stale.push(committed === null ? `${path} (missing)` : path);
    }
    expect(stale, `stale generated files: run npm run client:generate (then commit ${stale.join(', ')})`).toEqual([]);
  });

  it('types the PUT body from the document: `info` is required and the lanes are the API’s', async () => {
    // Guards the generator itself: a document it misread would still "match" the committed files.
    const schema = (await renderClientFiles())[CLIENT_FILES.schema]!;
    expect(schema).toMatch(/putResource: \{[\s\S]*?requestBody: \{[\s\S]*?\n\s+info: /);
    expect(schema).toContain('lane?: "none" | "inline" | "await" | "thread" | "queue";');
  });
});
