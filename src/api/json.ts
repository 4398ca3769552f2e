/**
 * JSON bodies the way Kubernetes writes them: Go's encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029 inside
 * strings, and the API server's encoder ends every body with a newline. `?pretty` indents by two spaces.
 */

const GO_ESCAPES: Readonly<Record<string, string>> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/** `JSON.stringify` with Go's HTML-safe escaping. Safe on the whole text: these characters only occur in strings. */
export function goJson(value: unknown, pretty = false): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
}

/** A JSON response with Kubernetes' framing. */
export function jsonResponse(
  body: unknown,
  { status = 200, pretty = false }: { status?: number; pretty?: boolean } = {},
): Response {
  return new Response(`${goJson(body, pretty)}\n`, { status, headers: { "content-type": "application/json" } });
}

/** Kubernetes reads `pretty` as a boolean parameter: present and not `false`/`0`. */
export function wantsPretty(url: URL): boolean {
  const value = url.searchParams.get("pretty");
  return value !== null && value !== "false" && value !== "0";
}
