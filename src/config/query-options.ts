/**
 * A rule's `prometheus:` section (per-rule query parameters, headers and backend) and the same parameters and headers
 * of a backend, checked alike: prom-adapter's own parameters and connection headers cannot be overridden.
 */
import type { Node } from "yaml";
import type { PrometheusQueryOptions } from "./schema.ts";
import { join, type YamlFields } from "./yaml-fields.ts";

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "transfer-encoding", "connection"]);

export function readQueryOptions(y: YamlFields, node: Node | null, path: string): PrometheusQueryOptions {
  const { fields, string } = y;
  const f = fields(node, path, ["parameters", "headers", "backend"]);
  const backend = f.get("backend") == null ? undefined : string(f.get("backend"), join(path, "backend"), false);
  const { parameters, headers } = parametersAndHeaders(y, f, node, path);
  return backend === undefined || backend === "" ? { parameters, headers } : { parameters, headers, backend };
}

/** The `parameters` and `headers` of a rule's `prometheus:` or of a backend, checked alike. */
export function parametersAndHeaders(
  y: YamlFields,
  f: Map<string, Node | null>,
  node: Node | null,
  path: string,
): { parameters: Record<string, string>; headers: Record<string, string> } {
  const { issue, stringMap } = y;
  const parameters = stringMap(f.get("parameters") ?? null, join(path, "parameters"));
  for (const reserved of ["query", "time"]) {
    if (Object.hasOwn(parameters, reserved))
      issue(
        f.get("parameters") ?? node,
        join(path, "parameters"),
        `"${reserved}" is set by prom-adapter and cannot be overridden`,
      );
  }
  const headers = stringMap(f.get("headers") ?? null, join(path, "headers"));
  for (const name of Object.keys(headers)) {
    if (!HTTP_TOKEN.test(name))
      issue(f.get("headers") ?? node, join(path, "headers"), `invalid header name ${JSON.stringify(name)}`);
    else if (RESERVED_HEADERS.has(name.toLowerCase()))
      issue(
        f.get("headers") ?? node,
        join(path, "headers"),
        `header "${name}" is set by prom-adapter and cannot be overridden`,
      );
  }
  return { parameters, headers };
}
