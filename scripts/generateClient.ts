// `npm run client:generate`: writes packages/client's generated files (the API's OpenAPI document
// and the types derived from it) from the API's current schemas. Run it after changing the API's
// routes or schemas; test/clientDrift.test.ts fails until you do.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderClientFiles } from './client/renderClientFiles.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const [path, text] of Object.entries(await renderClientFiles())) {
  await writeFile(`${root}${path}`, text);
  console.log(`wrote ${path} (${Buffer.byteLength(text)} bytes)`);
}
