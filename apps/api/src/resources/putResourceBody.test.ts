import { describe, expect, it } from 'vitest';
import { resourceIdSchema } from './putResourceBody.ts';

describe('resourceIdSchema', () => {
  it.each([['order-42'], ['a.b'], ['...x'], ['user:7_v2'], ['x'.repeat(200)]])('accepts %s', (id) => {
    expect(resourceIdSchema.safeParse(id).success).toBe(true);
  });

  it.each([['.'], ['..'], ['....'], [''], ['x'.repeat(201)], ['a/b'], ['a b']])('refuses %j', (id) => {
    expect(resourceIdSchema.safeParse(id).success).toBe(false);
  });
});
