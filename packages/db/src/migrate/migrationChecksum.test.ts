import { describe, expect, it } from 'vitest';
import { migrationChecksum, scriptMatchesChecksum } from './migrationChecksum.ts';

// Cases from prisma-engines checksum.rs tests, so this runner agrees with Prisma on every row.
describe('migration checksums', () => {
  it('is the zero-padded sha256 hex of the script, as Prisma records it', () => {
    expect(migrationChecksum('hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(migrationChecksum(Buffer.from('hello'))).toBe(migrationChecksum('hello'));
  });

  it.each([
    ['LF script, CRLF checksum', 'ab\ncd\nef\ngh\rab', 'ab\r\ncd\r\nef\r\ngh\rab'],
    ['CRLF script, LF checksum', 'ab\r\ncd\r\nef\r\ngh\rab\r\n', 'ab\ncd\nef\ngh\rab\n'],
  ])('ignores line-ending changes made by git (%s)', (_name, script, recordedFrom) => {
    expect(scriptMatchesChecksum(script, migrationChecksum(recordedFrom))).toBe(true);
  });

  it('rejects a script whose content changed', () => {
    expect(scriptMatchesChecksum('abc', migrationChecksum('abcd'))).toBe(false);
    expect(scriptMatchesChecksum('abc\n', migrationChecksum('abc'))).toBe(false);
  });

  it('accepts the unpadded hex that old Prisma versions recorded', () => {
    const digest = Buffer.from(migrationChecksum('hello'), 'hex');
    const unpadded = Array.from(digest, (b) => b.toString(16)).join('');
    expect(unpadded.length).toBeLessThan(64);
    expect(scriptMatchesChecksum('hello', unpadded)).toBe(true);
  });
});
