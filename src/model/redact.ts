// Secrets never leave the process in text we write: results, events, summaries, errors.

/** `text` with every occurrence of `secret` replaced. Short placeholders are left alone. */
export function redact(text: string, secret: string | undefined): string {
  // Every answer body passes through here (attempt/http-client.ts): the common case, no secret
  // in it, is one search and no new string.
  if (secret === undefined || secret.length < 8 || !text.includes(secret)) return text;
  return text.split(secret).join('[redacted]');
}

/** `text` with every occurrence of each of `secrets` replaced (see redact). */
export function redactAll(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) out = redact(out, secret);
  return out;
}

/**
 * A URL's password (https://user:pass@host) and the values of its query (…/v1?api-key=…, as some
 * gateways take keys) are secrets too, raw and decoded; so is a query key of 8 characters or
 * more. Throws TypeError for a string that is not a URL.
 */
export function urlSecrets(url: string): string[] {
  const parsed = new URL(url);
  const secrets = [parsed.password, decodeURIComponent(parsed.password)];
  for (const [key, value] of parsed.searchParams) secrets.push(value, encodeURIComponent(value), key.length >= 8 ? key : '');
  return secrets.filter((secret) => secret !== '');
}

/** What a run keeps out of everything it writes: its API key and its base URL's secrets (none for a URL that does not parse). */
export function runSecrets(options: { apiKey?: string | undefined; baseURL: string }): string[] {
  let fromUrl: string[] = [];
  try {
    fromUrl = urlSecrets(options.baseURL);
  } catch {
    // Its requests fail plainly; there is nothing of it to hide.
  }
  return options.apiKey === undefined ? fromUrl : [options.apiKey, ...fromUrl];
}
