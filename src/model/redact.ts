// Secrets never leave the process in text we write: results, events, summaries, errors.

/** `text` with every occurrence of `secret` replaced. Short placeholders are left alone. */
export function redact(text: string, secret: string | undefined): string {
  // Every answer body passes through here (attempt/http-client.ts): the common case, no secret
  // in it, is one search and no new string.
  if (secret === undefined || secret.length < 8 || !text.includes(secret)) return text;
  return text.split(secret).join('[redacted]');
}
