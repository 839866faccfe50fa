import type { z } from 'zod';

/** Turns zod issues into the `details` of a 422: `[{ path: "info", message: "…" }]`. */
export function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}
