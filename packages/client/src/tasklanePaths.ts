import type { paths } from './schema.ts';

/** The body of `PUT /resources/{id}` as the spec describes it (`info` and `attributes` accept any JSON object). */
export type PutResourceBody = paths['/resources/{id}']['put']['requestBody']['content']['application/json'];

/** A JSON object: what the API accepts for `info` and `attributes` (it keeps numbers exactly as sent). */
export type JsonObject = PutResourceBody['info'];

/** The API's paths as the client types them: the generated `paths`. */
export type TasklanePaths = paths;
