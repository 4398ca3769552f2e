/**
 * The HTTP library prom-adapter plugs into @kubernetes/client-node.
 * NB: client-node 2.x sends through an undici dispatcher carrying the cluster CA and client certificate, and Bun's
 * fetch ignores dispatchers, so any cluster with a private CA fails ("self signed certificate in certificate chain";
 * oven-sh/bun#7332, kubernetes-client/javascript#2627). This library sends with Bun's fetch and its `tls` option
 * instead; headers (bearer tokens, exec and auth-provider tokens, token-file rotation) still come from
 * KubeConfig.applySecurityAuthentication, so the typed API classes work unchanged.
 */
import { readFileSync } from "node:fs";
import {
  createConfiguration,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type HttpLibrary,
  type KubeConfig,
} from "@kubernetes/client-node";

/** TLS settings for Bun's fetch, from the current cluster and user of a kubeconfig. Files are re-read each call. */
export function tlsOptionsOf(kubeConfig: KubeConfig): {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  serverName?: string;
} {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  const material = (data: string | undefined, file: string | undefined) =>
    data ? Buffer.from(data, "base64").toString("utf8") : file ? readFileSync(file, "utf8") : undefined;
  const tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean; serverName?: string } = {};
  const ca = material(cluster?.caData, cluster?.caFile);
  if (ca) tls.ca = ca;
  const cert = material(user?.certData, user?.certFile);
  const key = material(user?.keyData, user?.keyFile);
  if (cert && key) {
    tls.cert = cert;
    tls.key = key;
  }
  if (cluster?.skipTLSVerify) tls.rejectUnauthorized = false;
  if (cluster?.tlsServerName) tls.serverName = cluster.tlsServerName;
  return tls;
}

/** Sends a client-node RequestContext with Bun's fetch and the kubeconfig's TLS settings. */
export async function sendWithBunFetch(kubeConfig: KubeConfig, request: RequestContext): Promise<ResponseContext> {
  const response = await fetch(request.getUrl(), {
    method: request.getHttpMethod().toString(),
    body: request.getBody() as RequestInit["body"],
    headers: request.getHeaders(),
    signal: request.getSignal(),
    tls: tlsOptionsOf(kubeConfig),
  } as RequestInit);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const bytes = response.arrayBuffer().then((buffer) => Buffer.from(buffer));
  return new ResponseContext(response.status, headers, {
    text: async () => (await bytes).toString("utf8"),
    binary: () => bytes,
    stream: () => null,
  });
}

export function createBunHttpLibrary(kubeConfig: KubeConfig): HttpLibrary {
  return wrapHttpLibrary({ send: (request) => sendWithBunFetch(kubeConfig, request) });
}

/** The client-node configuration for the typed API classes (`new CoreV1Api(configuration)`). */
export function createApiConfiguration(kubeConfig: KubeConfig): Configuration {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error("kubeconfig has no current cluster");
  return createConfiguration({
    baseServer: new ServerConfiguration(server.replace(/\/+$/, ""), {}),
    authMethods: { default: kubeConfig },
    httpApi: createBunHttpLibrary(kubeConfig),
  });
}

/** A plain GET (or other method) to the API server with the kubeconfig's credentials, for what the typed API classes
 * cannot ask for: discovery documents and metadata-only lists (`Accept: ...;as=PartialObjectMetadataList`). */
export async function kubeRequest(
  kubeConfig: KubeConfig,
  path: string,
  {
    method = "GET",
    accept = "application/json",
    body,
    signal,
  }: { method?: "GET" | "POST"; accept?: string; body?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  const server = kubeConfig.getCurrentCluster()?.server?.replace(/\/+$/, "");
  if (!server) throw new Error("kubeconfig has no current cluster");
  const context = new RequestContext(`${server}${path}`, method as never);
  context.setHeaderParam("Accept", accept);
  if (body !== undefined) {
    context.setHeaderParam("Content-Type", "application/json");
    context.setBody(body);
  }
  if (signal) context.setSignal(signal);
  await kubeConfig.applySecurityAuthentication(context);
  return fetch(context.getUrl(), {
    method,
    headers: context.getHeaders(),
    body,
    signal,
    tls: tlsOptionsOf(kubeConfig),
  } as RequestInit);
}
