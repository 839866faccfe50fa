import type { paths } from './schema.ts';

type PutOperation = paths['/resources/{id}']['put'];
type GeneratedPutBody = PutOperation['requestBody']['content']['application/json'];

/** A JSON object: what the API accepts for `info` and `attributes` (it keeps numbers exactly as sent). */
export type JsonObject = Record<string, unknown>;

/** The body of `PUT /resources/{id}`, with `info` and `attributes` accepting any JSON object. */
export type PutResourceBody = Omit<GeneratedPutBody, 'info' | 'attributes'> & { info: JsonObject; attributes?: JsonObject | null };

// ---------------------------------------------------------------------------------------------
// THE ONE MARKED CAST (issue #12, point 1). The document describes `info` and `attributes` as a
// bare `{"type":"object"}`, which openapi-typescript turns into `Record<string, never>`: no map
// could be sent without a cast. Until the spec says they accept any JSON object, the client's
// paths widen exactly those two fields of the PUT body, here and nowhere else. The widening is
// conditional: once `npm run client:generate` produces a body that already accepts any object,
// `TasklanePaths` is the generated `paths` unchanged, and this block can be deleted.
// ---------------------------------------------------------------------------------------------
type WidenedPaths = Omit<paths, '/resources/{id}'> & {
  '/resources/{id}': Omit<paths['/resources/{id}'], 'put'> & {
    put: Omit<PutOperation, 'requestBody'> & { requestBody: { content: { 'application/json': PutResourceBody } } };
  };
};

/** The API's paths as the client types them: the generated `paths` (see the marked block above). */
export type TasklanePaths = JsonObject extends GeneratedPutBody['info'] ? paths : WidenedPaths;
