/**
 * The stand-in's request pipeline, in kube-apiserver's filter order: record, injected faults, authentication (401),
 * impersonation, authorization (403), then routing to discovery, the review APIs or stored resources (404 for
 * anything else).
 */
import { authenticateCaller, type TokenTable } from "./authenticate.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from "./discovery.ts";
import type { FaultInjector } from "./faults.ts";
import { applyImpersonation } from "./impersonation.ts";
import type { ObjectStore } from "./object-store.ts";
import { decideAccess, forbiddenReason, type AccessAttributes } from "./policy.ts";
import { requestAttributesOf, type RequestAttributes } from "./request-info.ts";
import { serveResource } from "./resources.ts";
import {
  answerSelfSubjectAccessReview,
  answerSelfSubjectReview,
  answerSubjectAccessReview,
  answerTokenReview,
} from "./reviews.ts";
import { decodeKubernetesProtobuf, UndecodableProtobufError } from "./protobuf.ts";
import { failureStatus, forbidden, jsonResponse, pathNotFound, statusResponse, unauthorized } from "./status.ts";
import type { CallerIdentity, PolicyRule, RecordedRequest, ResourceDefinition } from "./types.ts";

/** The mutable state the pipeline reads; the entry point owns it. */
export interface StandInState {
  readonly definitions: ResourceDefinition[];
  readonly store: ObjectStore;
  tokens: TokenTable;
  rules: readonly PolicyRule[];
  readonly faults: FaultInjector;
  readonly requests: RecordedRequest[];
  readonly tokenReviews: unknown[];
  readonly subjectAccessReviews: unknown[];
  readonly adminToken: string;
  readonly caPem: string;
  /** `127.0.0.1:<port>`, for /api's serverAddressByClientCIDRs. */
  serverAddress: string;
  /** Clock for creation timestamps and Table ages (certificates are always checked against the real time). */
  readonly now: () => Date;
}

const PROTOBUF = "application/vnd.kubernetes.protobuf";

type Reviewer = (body: unknown, caller: CallerIdentity, state: StandInState) => Response;

const REVIEWS: Record<string, Reviewer> = {
  "authentication.k8s.io/v1/tokenreviews": (body, _caller, state) => {
    state.tokenReviews.push(body);
    return answerTokenReview(body, state);
  },
  "authorization.k8s.io/v1/subjectaccessreviews": (body, _caller, state) => {
    state.subjectAccessReviews.push(body);
    return answerSubjectAccessReview(body, state.rules);
  },
  "authorization.k8s.io/v1/selfsubjectaccessreviews": (body, caller, state) =>
    answerSelfSubjectAccessReview(body, caller, state.rules),
  "authentication.k8s.io/v1/selfsubjectreviews": (_body, caller) => answerSelfSubjectReview(caller),
};

/** Creates the Fetch handler over `state`. */
export function createHandler(state: StandInState): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const bytes =
      request.method === "GET" || request.method === "HEAD"
        ? new Uint8Array()
        : new Uint8Array(await request.arrayBuffer());
    const parsed = parseBody(bytes, request.headers.get("content-type") ?? "");
    const record: RecordedRequest = {
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      body: parsed.body,
      identity: undefined,
      status: 0,
    };
    state.requests.push(record);
    const response = await answer(request, url, record, parsed.decodable, state);
    record.status = response.status;
    return response;
  };
}

async function answer(
  request: Request,
  url: URL,
  record: RecordedRequest,
  decodable: boolean,
  state: StandInState,
): Promise<Response> {
  const injected = state.faults.take(url.pathname);
  if (injected) return injected;

  const authenticated = authenticateCaller(request, {
    caPem: state.caPem,
    adminToken: state.adminToken,
    tokens: state.tokens,
    now: new Date(),
  });
  if (!authenticated) return statusResponse(unauthorized());
  const caller = applyImpersonation(request, authenticated, state.rules);
  if ("kind" in caller) return statusResponse(caller);
  record.identity = caller;

  const attributes = requestAttributesOf(request.method, url.pathname, url.searchParams);
  const access = accessAttributesOf(attributes);
  const decision = decideAccess(state.rules, { user: caller.username, groups: caller.groups ?? [] }, access);
  if (!decision.allowed) {
    const why = forbiddenReason(caller.username, access, decision.reason ?? "");
    const resource = attributes.isResourceRequest
      ? { group: attributes.group, resource: attributes.resource }
      : undefined;
    return statusResponse(forbidden(resource, attributes.isResourceRequest ? attributes.name : "", why));
  }

  if (!attributes.isResourceRequest) return serveNonResource(request.method, url.pathname, state);
  const review = REVIEWS[`${attributes.group}/${attributes.version}/${attributes.resource}`];
  if (review && attributes.namespace === "" && attributes.name === "" && attributes.subresource === "") {
    if (attributes.verb === "create")
      return decodable ? review(record.body, caller, state) : statusResponse(unsupportedMediaType());
  }
  return serveResource(attributes, {
    definitions: state.definitions,
    store: state.store,
    query: url.searchParams,
    accept: request.headers.get("accept"),
    now: state.now(),
  });
}

function serveNonResource(method: string, pathname: string, state: StandInState): Response {
  if (method !== "GET" && method !== "HEAD") return statusResponse(pathNotFound());
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  if (path === "/version") return jsonResponse(VERSION_INFO);
  if (path === "/api") return jsonResponse(apiVersions(state.serverAddress));
  if (path === "/apis") return jsonResponse(apiGroupList(state.definitions));
  const core = /^\/api\/([^/]+)$/.exec(path);
  const group = /^\/apis\/([^/]+)$/.exec(path);
  const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  const document = core
    ? apiResourceList(state.definitions, "", core[1]!)
    : group
      ? apiGroup(state.definitions, group[1]!)
      : groupVersion
        ? apiResourceList(state.definitions, groupVersion[1]!, groupVersion[2]!)
        : undefined;
  return document ? jsonResponse(document) : statusResponse(pathNotFound());
}

function accessAttributesOf(attributes: RequestAttributes): AccessAttributes {
  if (!attributes.isResourceRequest) return { kind: "nonResource", verb: attributes.verb, path: attributes.path };
  const { verb, group, version, namespace, resource, subresource, name } = attributes;
  return { kind: "resource", verb, group, version, namespace, resource, subresource, name };
}

/**
 * The request body as JSON (or text when it does not parse); protobuf review bodies are decoded to their JSON form.
 * `decodable` is false for a protobuf body of another kind.
 */
function parseBody(bytes: Uint8Array, contentType: string): { body: unknown; decodable: boolean } {
  if (bytes.length === 0) return { body: undefined, decodable: true };
  if (contentType.toLowerCase().startsWith(PROTOBUF)) {
    try {
      return { body: decodeKubernetesProtobuf(bytes), decodable: true };
    } catch (error) {
      if (error instanceof UndecodableProtobufError)
        return { body: Buffer.from(bytes).toString("base64"), decodable: false };
      throw error;
    }
  }
  const text = new TextDecoder().decode(bytes);
  try {
    return { body: JSON.parse(text), decodable: true };
  } catch {
    return { body: text, decodable: true };
  }
}

function unsupportedMediaType() {
  return failureStatus(
    415,
    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    "UnsupportedMediaType",
  );
}
