// Credentials must never reach a message, a log line or an error: URLs like
// `nats://user:PASSWORD@host:4222` are echoed back in "is not a valid URL" errors and in
// connection failures, and a malformed URL (a password with an unescaped `/` or `@`) cannot be
// parsed by `new URL`, so the redaction works on the text itself.

/** `scheme://` then everything up to the last `@` before the next blank or quote: the userinfo. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'`<>]*@/gi;

/**
 * Replaces the userinfo (`user:password@`) of every URL in `text` with `***@`. It cuts up to the
 * last `@` of each URL, so a password holding `@` or `/` is cut whole (at the price of also
 * hiding the host when an `@` appears later in the path or query).
 *
 * @example
 * redactUrls('cannot reach nats://u:pw@10.0.0.1:4222'); // 'cannot reach nats://***@10.0.0.1:4222'
 */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, '$1***@');
}
