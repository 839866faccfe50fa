import { createHash } from 'node:crypto';

/** Length of a checksum string as Prisma writes it: SHA-256 as 64 lower-case hex digits. */
const CHECKSUM_LENGTH = 64;

/**
 * The checksum Prisma records in `_prisma_migrations.checksum` for a migration script: the SHA-256
 * of the script's bytes, as 64 zero-padded lower-case hex digits.
 *
 * Source: prisma-engines `schema-engine/connectors/schema-connector/src/checksum.rs`
 * (`render_checksum`), which hashes the `migration.sql` read as UTF-8 text, i.e. the file's bytes.
 *
 * @param script - the migration script as bytes (what is on disk) or as text (hashed as UTF-8).
 * @returns 64 lower-case hex digits.
 */
export function migrationChecksum(script: Uint8Array | string): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Whether a recorded checksum still matches a migration script, with Prisma's tolerances:
 * the script may have gained or lost `\r\n` line endings since it was applied (git's autocrlf),
 * and migrations recorded by old Prisma versions have hex digits without zero padding.
 *
 * Source: prisma-engines `checksum.rs` (`script_matches_checksum`, and issue
 * https://github.com/prisma/prisma-engines/issues/1887 for the unpadded format).
 *
 * @param script - the migration script as it is on disk now.
 * @param checksum - the value stored in `_prisma_migrations.checksum`.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest();
    const rendered =
      checksum.length !== 0 && checksum.length !== CHECKSUM_LENGTH
        ? Array.from(digest, (byte) => byte.toString(16)).join('')
        : digest.toString('hex');
    return rendered === checksum;
  });
}
