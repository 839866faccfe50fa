import { z } from 'zod';

/**
 * Limits on a PUT body's `info` map (issue #2). `maxKeyBytes` bounds the UTF-8 length of every
 * leaf's context record key (its flattened path, issue #4): the key is part of the
 * `context_records` primary key, whose B-tree rows PostgreSQL caps at 2,704 bytes (with a resource
 * id of up to 200 bytes beside it), and it travels base64url-encoded as the context cursor, which
 * may be at most 2,000 characters (4/3 × 1,500).
 */
export const INFO_LIMITS = { maxDepth: 32, maxLeaves: 10_000, maxKeyBytes: 1_500 } as const;

/** Resource ids: 1–200 characters from `[A-Za-z0-9._:-]`, not dots only. */
export const resourceIdSchema = z
  .string()
  .min(1)
  .max(200, 'id must be at most 200 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'id may contain only letters, digits, ".", "_", ":" and "-"')
  // "." and ".." are path segments URL parsers remove (RFC 3986 §5.2.4): such a resource could
  // never be read back at its own Location.
  .refine((id) => !/^\.+$/.test(id), 'id may not consist of dots only');

/** True for `{…}` JSON objects (not arrays, not numbers kept exact as objects). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const jsonObject = (what: string) => z.custom<Record<string, unknown>>(isJsonObject, { message: `${what} must be a JSON object` });

/** `PUT /resources/:id` body. PUT replaces: omitted `name`/`attributes` are stored as null. */
export const putResourceBodySchema = z
  .object({
    name: z.string().max(1000).nullable().optional(),
    attributes: jsonObject('attributes').nullable().optional(),
    info: jsonObject('info'),
  })
  .strict();

/** A validated `PUT /resources/:id` body. */
export type PutResourceBody = z.infer<typeof putResourceBodySchema>;
