import type { RequestParams } from "./types.ts";

/**
 * Encodes parameters the way Go's `url.Values.Encode` does (what upstream sends): keys sorted, a list value repeats
 * its key in order, every byte outside `A-Z a-z 0-9 - _ . ~` percent-encoded (upper-case hex), space as `+`.
 * The result is the GET query string and, unchanged, the POST `application/x-www-form-urlencoded` body.
 *
 * NB: `URLSearchParams` would leave `*` bare and escape `~`; Prometheus decodes both forms alike, but matching Go
 * byte for byte keeps URLs comparable with upstream's (and the 8 KiB GET limit identical).
 */
export function encodeParams(params: RequestParams): string {
  const parts: string[] = [];
  for (const key of Object.keys(params).sort(compareBytes)) {
    const value = params[key]!;
    for (const item of typeof value === "string" ? [value] : value) {
      parts.push(`${queryEscape(key)}=${queryEscape(item)}`);
    }
  }
  return parts.join("&");
}

/** Go's `url.QueryEscape`. */
export function queryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

// Go sorts keys by bytes; for UTF-16 strings, comparing the UTF-8 encodings gives the same order.
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
