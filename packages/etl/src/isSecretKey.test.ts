import { describe, expect, it } from 'vitest';
import { isSecretKey } from './isSecretKey.ts';

describe('isSecretKey', () => {
  it.each([
    'token',
    'access_token',
    'refresh_token',
    'github_tokens',
    'secret',
    'client_secret',
    'webhook_secrets',
    'password',
    'db_password',
    'passwd',
    'passphrase',
    'apikey',
    'api_key',
    'x_api_key',
    'api_keys',
    'private_key',
    'aws_secret_access_key',
    'secret_key',
    'authorization',
    'proxy_authorization',
    'credentials',
    'cookie',
    'set_cookie',
    '_token_',
    'api__key',
  ])('treats %j as secret', (name) => {
    expect(isSecretKey(name)).toBe(true);
  });

  it.each([
    'tokens_url',
    'access_tokens_url',
    'keys_url',
    'token_type',
    'secret_scanning',
    'secret_type',
    'secret_type_display_name',
    'key',
    'public_key',
    'analysis_key',
    'author',
    'authorized_actors_only',
    'signature',
    'private',
    'tokenizer',
    'passwords_url',
    '',
  ])('does not treat %j as secret', (name) => {
    expect(isSecretKey(name)).toBe(false);
  });
});
