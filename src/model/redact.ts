// Secrets never leave the process in text we write: results, events, summaries, errors.

/** `text` with every occurrence of `secret` replaced. Short placeholders are left alone. */
export function redact(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length < 8) return text;
  return text.split(secret).join('[redacted]');
}
