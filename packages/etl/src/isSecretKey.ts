/** Last words that make a key secret: `token`, `access_token`, `client_secret`, `db_password`, … */
const SECRET_LAST_WORDS: ReadonlySet<string> = new Set([
  'token',
  'tokens',
  'secret',
  'secrets',
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'apikey',
  'authorization',
  'credential',
  'credentials',
  'cookie',
  'cookies',
]);

/** Words before a final `key`/`keys` that make it secret: `api_key`, `private_key`, `secret_keys`, … */
const SECRET_KEY_QUALIFIERS: ReadonlySet<string> = new Set([
  'api',
  'private',
  'secret',
  'access',
  'signing',
  'encryption',
  'client',
  'session',
]);

/**
 * Decides whether a value stored under this key looks like a secret that must not be kept.
 *
 * The rule looks at the head noun of the snake_case name, which is its last word:
 * - the last word is one of `token(s)`, `secret(s)`, `password(s)`, `passwd`, `passphrase`, `apikey`,
 *   `authorization`, `credential(s)`, `cookie(s)`; or
 * - the last two words are `api`, `private`, `secret`, `access`, `signing`, `encryption`, `client` or
 *   `session` followed by `key`/`keys` (`api_key`, `x_api_key`, `private_key`).
 *
 * Leading, trailing and doubled underscores are ignored (`_token_` is secret). Looking only at the
 * head noun keeps GitHub webhook fields readable: `access_tokens_url`, `keys_url` (last word `url`),
 * `token_type`, `secret_scanning`, `secret_type` (the detector name, not the secret) and
 * `license.key` / `deploy_key.key` (plain `key` is a public identifier) are not secret, while
 * `hook.config.secret` is. Known false positive: GitHub App `permissions.secrets` (value `"read"`) is
 * redacted; hiding a permission level is harmless, leaking a token is not.
 *
 * @param name - One key segment already normalised by {@link toSnakeCase}; raw keys are not
 *   normalised here (`clientSecret` must be passed as `client_secret`).
 * @returns `true` when values under this key must be redacted.
 */
export function isSecretKey(name: string): boolean {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 95 /* _ */) end -= 1;
  const lastStart = name.lastIndexOf('_', end - 1) + 1;
  const last = name.slice(lastStart, end);
  if (SECRET_LAST_WORDS.has(last)) return true;
  if (last !== 'key' && last !== 'keys') return false;

  let previousEnd = lastStart;
  while (previousEnd > 0 && name.charCodeAt(previousEnd - 1) === 95) previousEnd -= 1;
  const previous = name.slice(name.lastIndexOf('_', previousEnd - 1) + 1, previousEnd);
  return SECRET_KEY_QUALIFIERS.has(previous);
}
