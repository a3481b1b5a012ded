// Secrets never leave the process in text we write: results, events, summaries, errors.

/** `text` with every occurrence of `secret` replaced. Short placeholders are left alone. */
export function redact(text: string, secret: string | undefined): string {
  // Every answer body passes through here (attempt/http-client.ts): the common case, no secret
  // in it, is one search and no new string.
  if (secret === undefined || secret.length < 8 || !text.includes(secret)) return text;
  return text.split(secret).join('[redacted]');
}

/** `text` with every occurrence of each of `secrets` replaced (see redact), in their order: make them with secretList. */
export function redactAll(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = redact(out, secret);
  return out;
}

/**
 * Secrets as redactAll takes them: once each, longest first — a secret inside a longer one (a
 * password that begins a signature) must not cut the longer one into a redacted part and a part
 * left in clear. Made once per run: redactAll runs on every answer body.
 */
export function secretList(...secrets: readonly (string | undefined)[]): string[] {
  return [...new Set(secrets.filter((secret): secret is string => secret !== undefined && secret !== ''))].sort((a, b) => b.length - a.length);
}

/**
 * Query keys whose values are credentials: gateways that take `?api-key=`, `?key=`, `?token=`,
 * Azure's SAS `sig` and Functions' `code`. Other values (`api-version=2024-10-21`) are not
 * secrets: redacting them would change answers that merely contain the same text.
 */
const CREDENTIAL_QUERY_KEY = /^(api[-_]?key|key|token|access[-_]?token|auth|authorization|sig|signature|secret|password|code)$/i;

/**
 * A URL's password (https://user:pass@host) and the values of its credential query keys
 * (CREDENTIAL_QUERY_KEY), raw and encoded. Throws TypeError for a string that is not a URL.
 */
export function urlSecrets(url: string): string[] {
  const parsed = new URL(url);
  const secrets = [parsed.password, decodeURIComponent(parsed.password)];
  for (const [key, value] of parsed.searchParams) if (CREDENTIAL_QUERY_KEY.test(key)) secrets.push(value, encodeURIComponent(value));
  return secrets.filter((secret) => secret !== '');
}

/**
 * `url` without its user info and its credential query values (for what is stored or shown, not
 * for requests); a string that is not a URL comes back as it is (no request can be made with it).
 */
export function urlWithoutSecrets(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) if (CREDENTIAL_QUERY_KEY.test(key)) parsed.searchParams.delete(key);
  return parsed.toString();
}

/**
 * The endpoint as batch-llm records it — in the resume checkpoint's fingerprint and in every
 * response-cache key — so the two agree on what "the same endpoint" is: scheme, host, port, path
 * without trailing slashes, and the query (Azure's `api-version` picks another API); without user
 * info, credential query values (a rotated key is the same endpoint) and fragment.
 * "(not a URL)" for a string that is not one.
 */
export function endpointIdentity(baseURL: string): string {
  let url: URL;
  try {
    url = new URL(urlWithoutSecrets(baseURL));
  } catch {
    return '(not a URL)';
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`;
}

/** urlSecrets, or none for no URL or a string that is not one (no request can be made with it: nothing to hide). */
export function urlSecretsIfAny(url: string | undefined): string[] {
  try {
    return url === undefined ? [] : urlSecrets(url);
  } catch {
    return [];
  }
}

/** What a run keeps out of everything it writes: its API key and its base URL's secrets. */
export function runSecrets(options: { apiKey?: string | undefined; baseURL: string }): string[] {
  return secretList(options.apiKey, ...urlSecretsIfAny(options.baseURL));
}
