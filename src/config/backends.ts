/**
 * The `backends:` section (our extension): named Prometheus servers, each with its URL, the namespaces it serves and
 * its credentials, which are only ever file paths.
 */
import { isScalar, type Node } from "yaml";
import { parametersAndHeaders } from "./query-options.ts";
import type { BackendConfig, BackendNamespaces } from "./schema.ts";
import { join, type YamlFields } from "./yaml-fields.ts";

/** A backend name: a DNS-1123 label, as Kubernetes names are. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** One backend; `seen` holds the names declared before it. */
export function readBackend(y: YamlFields, node: Node, path: string, seen: Set<string>): BackendConfig {
  const { fields, issue, string } = y;
  const f = fields(node, path, [
    "name",
    "url",
    "namespaces",
    "bearerTokenFile",
    "caFile",
    "clientCertFile",
    "clientKeyFile",
    "authConfigFile",
    "headers",
    "parameters",
  ]);
  const name = string(f.get("name"), join(path, "name"), true, node);
  if (name !== "") {
    if (!DNS1123_LABEL.test(name))
      issue(f.get("name"), join(path, "name"), `${JSON.stringify(name)} is not a DNS-1123 label (a-z, 0-9, -)`);
    else if (name === "default")
      issue(f.get("name"), join(path, "name"), `"default" is the --prometheus-url backend and cannot be redeclared`);
    else if (seen.has(name)) issue(f.get("name"), join(path, "name"), `duplicate backend name "${name}"`);
    seen.add(name);
  }
  const url = string(f.get("url"), join(path, "url"), true, node);
  if (url !== "") {
    const parsed = URL.canParse(url) ? new URL(url) : null;
    if (parsed === null || !/^https?:$/.test(parsed.protocol))
      issue(f.get("url"), join(path, "url"), `expected an http or https URL, got ${JSON.stringify(url)}`);
    else if (parsed.username !== "" || parsed.password !== "")
      issue(f.get("url"), join(path, "url"), "credentials in the URL are refused: use authConfigFile");
  }
  const file = (key: string) => {
    const value = string(f.get(key), join(path, key), false);
    return value === "" ? undefined : value;
  };
  const clientCertFile = file("clientCertFile");
  const clientKeyFile = file("clientKeyFile");
  if ((clientCertFile === undefined) !== (clientKeyFile === undefined))
    issue(node, path, "clientCertFile and clientKeyFile must be given together");
  const { parameters, headers } = parametersAndHeaders(y, f, node, path);
  for (const header of Object.keys(headers)) {
    if (["authorization", "proxy-authorization"].includes(header.toLowerCase()))
      issue(
        f.get("headers") ?? node,
        join(path, "headers"),
        `header "${header}" would put a secret in the rules file: use bearerTokenFile or authConfigFile`,
      );
  }
  return {
    name,
    url,
    namespaces: backendNamespaces(y, f.get("namespaces") ?? null, join(path, "namespaces")),
    bearerTokenFile: file("bearerTokenFile"),
    caFile: file("caFile"),
    clientCertFile,
    clientKeyFile,
    authConfigFile: file("authConfigFile"),
    headers,
    parameters,
  };
}

/** A list of names, or one string: an RE2 regex (checked when compiling). */
function backendNamespaces(y: YamlFields, node: Node | null, path: string): BackendNamespaces | null {
  const { list, string } = y;
  if (node === null) return null;
  if (isScalar(node)) return { kind: "regex", pattern: string(node, path, false) };
  const names = list(node, path).map((item, index) => string(item, `${path}[${index}]`, true, node));
  return { kind: "list", names };
}
