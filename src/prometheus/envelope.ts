/**
 * Reading a Prometheus response: a size-bounded body, then the `{status, data, errorType, error}` envelope. Error
 * messages describe what arrived (size, content type, a short snippet with secrets removed).
 */
import type { PrometheusError, PrometheusErrorKind } from "./errors.ts";

const SNIPPET_CHARS = 120;

/** The response body is larger than allowed. */
export class BodyTooLarge extends Error {
  override readonly name = "BodyTooLarge";
}

/** Reads the whole body, stopping as soon as it grows past `maxBytes` (`0` = unbounded). */
export async function readBody(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (maxBytes > 0 && declared > maxBytes) {
    void response.body?.cancel().catch(() => {});
    throw new BodyTooLarge();
  }
  if (response.body === null) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (maxBytes > 0 && total > maxBytes) {
      void reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** Builds the PrometheusError for the current request. */
export type MakeError = (
  kind: PrometheusErrorKind,
  message: string,
  extra?: { errorType?: string; cause?: unknown },
) => PrometheusError;

/** `{status:"success", data}` → data; `{status:"error", errorType, error}` → `<errorType>: <error>`; else bad_response. */
export function unwrapEnvelope(
  bytes: Uint8Array,
  contentType: string,
  secrets: readonly string[],
  fail: MakeError,
): unknown {
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw fail(
      "bad_response",
      `bad_response: response is not valid JSON (${describeBody(bytes, contentType)}): ${errorText(error)}; body starts with ${JSON.stringify(snippet(text, secrets))}`,
      { cause: error },
    );
  }
  const envelope =
    typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (envelope?.status === "error") {
    const errorType = typeof envelope.errorType === "string" ? envelope.errorType : "";
    const message = typeof envelope.error === "string" ? envelope.error : "";
    throw fail("api", `${errorType}: ${message}`, { errorType });
  }
  if (envelope?.status !== "success" || !("data" in envelope)) {
    throw fail(
      "bad_response",
      `bad_response: response is not a Prometheus API envelope (${describeBody(bytes, contentType)}); body starts with ${JSON.stringify(snippet(text, secrets))}`,
    );
  }
  return envelope.data;
}

/** `<n> bytes of <content type>`, for error messages. */
export function describeBody(bytes: Uint8Array | number, contentType: string): string {
  return `${typeof bytes === "number" ? bytes : bytes.byteLength} bytes${contentType === "" ? "" : ` of ${contentType}`}`;
}

/** The start of a body for error messages, secrets removed. */
// NB: secrets are replaced before cutting, so a cut can never leave part of a token behind.
export function snippet(text: string, secrets: readonly string[]): string {
  const clean = redact(text, secrets);
  return clean.length <= SNIPPET_CHARS ? clean : `${clean.slice(0, SNIPPET_CHARS)}…`;
}

/** Replaces every secret (4 characters or more) in `text` with `<redacted>`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.replaceAll(secret, "<redacted>");
  }
  return result;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
