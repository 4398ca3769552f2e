/**
 * Header values exactly as received, one entry per header line.
 *
 * NB: a Fetch `Headers` object joins repeated headers with ", " (`X-Remote-Group: a` + `X-Remote-Group: b,c` reads
 * as `"a, b,c"`), which loses where one value ends. Front-proxy authentication takes every line of every group
 * header as one group without comma splitting (k8s.io/apiserver's requestheader authenticator), so the HTTPS listener
 * keeps the raw lines here.
 */

const rawHeadersByRequest = new WeakMap<Request, readonly string[]>();

/** Records the raw header list of `request` (node's `rawHeaders`: name, value, name, value, ...). Called by the HTTPS listener. */
export function recordRawHeaders(request: Request, rawHeaders: readonly string[]): void {
  rawHeadersByRequest.set(request, rawHeaders);
}

/**
 * Every value of header `name` (case-insensitive) in the order received, one per header line. For a request that did
 * not come through the HTTPS listener (in-process tests), the joined value of `request.headers` as a single entry.
 */
export function headerValuesOf(request: Request, name: string): string[] {
  const raw = rawHeadersByRequest.get(request);
  if (!raw) {
    const joined = request.headers.get(name);
    return joined === null ? [] : [joined];
  }
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    if (raw[index]!.toLowerCase() === wanted) values.push(raw[index + 1]!);
  }
  return values;
}

/** Every header of `request` whose name starts with `prefix` (case-insensitive), as [name as received, value] per line. */
export function headersWithPrefixOf(request: Request, prefix: string): Array<[name: string, value: string]> {
  const wanted = prefix.toLowerCase();
  const raw = rawHeadersByRequest.get(request);
  if (!raw) return [...request.headers].filter(([name]) => name.startsWith(wanted));
  const found: Array<[string, string]> = [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    if (raw[index]!.toLowerCase().startsWith(wanted)) found.push([raw[index]!, raw[index + 1]!]);
  }
  return found;
}
