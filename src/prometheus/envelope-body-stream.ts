/**
 * Reads a Prometheus answer as a stream: each body chunk goes through the JSON tokenizer as it arrives, the envelope
 * is checked once the body ends, and the `data` value's events reach the caller's handler on the way. Nothing but the
 * current chunk and the first few KiB (for error messages) is held. Same errors as the buffered path: size bound,
 * invalid JSON with a snippet, not an envelope, `status: "error"`.
 */
import { createEnvelopeReader } from "./envelope-stream.ts";
import { BodyTooLarge, describeBody, snippet, type MakeError } from "./envelope.ts";
import { createJsonTokenizer, JsonSyntaxError, type JsonHandler } from "./json-tokenizer.ts";
import type { TransferMeter } from "./types.ts";

/** Options of {@link streamEnvelope}. */
export interface StreamEnvelopeOptions {
  /** Largest body accepted in bytes (after decompression); `0` = no limit. */
  readonly maxBytes: number;
  /** The response's Content-Type, for error messages ("" when absent). */
  readonly contentType: string;
  /** Texts to remove from error messages. */
  readonly secrets: readonly string[];
  readonly fail: MakeError;
  /** Maps a read failure (or {@link BodyTooLarge}) to the error to throw. */
  readonly readFailed: (error: unknown) => unknown;
  /** Receives the body bytes read, chunk by chunk; optional. */
  readonly meter?: TransferMeter | undefined;
}

// NB: more than the 120 characters shown, so that a secret starting in the snippet is still redacted whole.
const HEAD_BYTES = 4096;

/**
 * Consumes `response`'s body, forwarding the envelope's `data` to `data`. Resolves when the whole body was valid and
 * the envelope said success; rejects otherwise (errors thrown by `data` propagate unchanged).
 */
export async function streamEnvelope(
  response: Response,
  data: JsonHandler,
  { maxBytes, contentType, secrets, fail, readFailed, meter }: StreamEnvelopeOptions,
): Promise<void> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (maxBytes > 0 && declared > maxBytes) {
    void response.body?.cancel().catch(() => {});
    throw readFailed(new BodyTooLarge());
  }
  const envelope = createEnvelopeReader(data);
  const tokenizer = createJsonTokenizer(envelope.handler);
  const head = new Uint8Array(HEAD_BYTES);
  let headLength = 0;
  let total = 0;
  const headText = () => new TextDecoder().decode(head.subarray(0, headLength));
  const reader = response.body?.getReader();
  try {
    if (reader !== undefined) {
      for (;;) {
        const chunk = await reader.read().catch((error: unknown) => {
          throw readFailed(error);
        });
        if (chunk.done) break;
        const bytes = chunk.value;
        total += bytes.byteLength;
        if (meter !== undefined) meter.bytes += bytes.byteLength;
        if (maxBytes > 0 && total > maxBytes) throw readFailed(new BodyTooLarge());
        if (headLength < HEAD_BYTES) {
          const copied = Math.min(HEAD_BYTES - headLength, bytes.byteLength);
          head.set(bytes.subarray(0, copied), headLength);
          headLength += copied;
        }
        tokenizer.write(bytes);
      }
    }
    tokenizer.end();
  } catch (error) {
    void reader?.cancel().catch(() => {});
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw fail(
      "bad_response",
      `bad_response: response is not valid JSON (${describeBody(total, contentType)}): ${error.message}; body starts with ${JSON.stringify(snippet(headText(), secrets))}`,
      { cause: error },
    );
  }

  const fields = envelope.fields();
  if (fields.isObject && fields.status === "error") {
    const errorType = fields.errorType ?? "";
    throw fail("api", `${errorType}: ${fields.error ?? ""}`, { errorType });
  }
  if (!fields.isObject || fields.status !== "success" || !fields.hasData) {
    throw fail(
      "bad_response",
      `bad_response: response is not a Prometheus API envelope (${describeBody(total, contentType)}); body starts with ${JSON.stringify(snippet(headText(), secrets))}`,
    );
  }
}
