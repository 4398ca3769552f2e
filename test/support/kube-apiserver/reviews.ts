/**
 * The review APIs: TokenReview and SubjectAccessReview (what prom-adapter calls; docs/api.md: Authentication,
 * Authorization), plus SelfSubjectAccessReview and SelfSubjectReview (what `kubectl auth can-i` and `kubectl auth
 * whoami` call). Answers echo the spec in Go field order with `metadata: {"creationTimestamp": null}`, as
 * kube-apiserver 1.32 does, and come with 201 Created.
 */
import { userOfToken, withAuthenticatedGroup, type TokenTable } from "./authenticate.ts";
import { decideAccess, type AccessAttributes } from "./policy.ts";
import { badRequest, failureStatus, jsonResponse, statusResponse } from "./status.ts";
import type { CallerIdentity, PolicyRule } from "./types.ts";

/** The audience kube-apiserver issues service account tokens for, unless a token says otherwise. */
export const API_AUDIENCES = ["https://kubernetes.default.svc.cluster.local"];

const CREATED = 201;
const REVIEW_METADATA = { creationTimestamp: null };
type Json = Record<string, unknown>;

/** POST /apis/authentication.k8s.io/v1/tokenreviews. */
export function answerTokenReview(body: unknown, options: { adminToken: string; tokens: TokenTable }): Response {
  const spec = objectField(body, "spec");
  const token = typeof spec.token === "string" ? spec.token : "";
  if (token === "") return statusResponse(badRequest("token is required for TokenReview in authentication"));
  const requested = stringList(spec.audiences);
  const echoedSpec = { token, ...(requested.length > 0 ? { audiences: requested } : {}) };
  const user = userOfToken(token, options.adminToken, options.tokens);
  let status: Json;
  if (!user) {
    status = { user: {}, error: "[invalid bearer token, token lookup failed]" };
  } else {
    const tokenAudiences = user.audiences ?? API_AUDIENCES;
    const wanted = requested.length > 0 ? requested : API_AUDIENCES;
    const audiences = tokenAudiences.filter((audience) => wanted.includes(audience));
    status =
      audiences.length === 0
        ? {
            user: {},
            error: `[invalid bearer token, token audiences ${goStrings(tokenAudiences)} is invalid for the target audiences ${goStrings(wanted)}]`,
          }
        : {
            authenticated: true,
            user: {
              username: user.username,
              ...(user.uid ? { uid: user.uid } : {}),
              groups: withAuthenticatedGroup(user.groups, user.username),
              ...(user.extra && Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
            },
            audiences,
          };
  }
  return jsonResponse(
    {
      kind: "TokenReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: REVIEW_METADATA,
      spec: echoedSpec,
      status,
    },
    CREATED,
  );
}

/** POST /apis/authorization.k8s.io/v1/subjectaccessreviews. */
export function answerSubjectAccessReview(body: unknown, rules: readonly PolicyRule[]): Response {
  const spec = objectField(body, "spec");
  const attributes = attributesOf(spec);
  if (typeof attributes === "string")
    return statusResponse(invalidReview("SubjectAccessReview", "spec.resourceAttributes", attributes));
  const user = typeof spec.user === "string" ? spec.user : "";
  const groups = stringList(spec.groups);
  if (user === "" && groups.length === 0) {
    return statusResponse(
      invalidReview(
        "SubjectAccessReview",
        "spec.user",
        'Invalid value: "": at least one of user or group must be specified',
      ),
    );
  }
  const extra =
    spec.extra !== null && typeof spec.extra === "object" && Object.keys(spec.extra).length > 0
      ? spec.extra
      : undefined;
  const echoedSpec = {
    ...attributesJson(attributes),
    ...(user ? { user } : {}),
    ...(groups.length > 0 ? { groups } : {}),
    ...(extra ? { extra } : {}),
    ...(typeof spec.uid === "string" && spec.uid !== "" ? { uid: spec.uid } : {}),
  };
  const status = decideAccess(rules, { user, groups }, attributes);
  return jsonResponse(
    {
      kind: "SubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: REVIEW_METADATA,
      spec: echoedSpec,
      status,
    },
    CREATED,
  );
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews, decided for the caller. */
export function answerSelfSubjectAccessReview(
  body: unknown,
  caller: CallerIdentity,
  rules: readonly PolicyRule[],
): Response {
  const attributes = attributesOf(objectField(body, "spec"));
  if (typeof attributes === "string")
    return statusResponse(invalidReview("SelfSubjectAccessReview", "spec.resourceAttributes", attributes));
  const status = decideAccess(rules, { user: caller.username, groups: caller.groups ?? [] }, attributes);
  return jsonResponse(
    {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: REVIEW_METADATA,
      spec: attributesJson(attributes),
      status,
    },
    CREATED,
  );
}

/** POST /apis/authentication.k8s.io/v1/selfsubjectreviews: who the caller is. */
export function answerSelfSubjectReview(caller: CallerIdentity): Response {
  const userInfo = {
    username: caller.username,
    ...(caller.uid ? { uid: caller.uid } : {}),
    ...(caller.groups && caller.groups.length > 0 ? { groups: caller.groups } : {}),
    ...(caller.extra ? { extra: caller.extra } : {}),
  };
  return jsonResponse(
    {
      kind: "SelfSubjectReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: REVIEW_METADATA,
      status: { userInfo },
    },
    CREATED,
  );
}

/** Access attributes of a SubjectAccessReview spec, or the validation message when it has not exactly one kind. */
function attributesOf(spec: Json): AccessAttributes | string {
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  const hasResource = resource !== null && typeof resource === "object";
  const hasNonResource = nonResource !== null && typeof nonResource === "object";
  if (hasResource === hasNonResource) {
    return `Invalid value: ${hasResource ? '"resourceAttributes"' : "null"}: exactly one of nonResourceAttributes or resourceAttributes must be specified`;
  }
  if (hasNonResource) {
    const { path, verb } = nonResource as Json;
    return { kind: "nonResource", path: String(path ?? ""), verb: String(verb ?? "") };
  }
  const fields = resource as Json;
  const text = (key: string) => (typeof fields[key] === "string" ? (fields[key] as string) : "");
  return {
    kind: "resource",
    namespace: text("namespace"),
    verb: text("verb"),
    group: text("group"),
    version: text("version"),
    resource: text("resource"),
    subresource: text("subresource"),
    name: text("name"),
  };
}

/** The attributes as the spec's JSON, Go field order, empty fields omitted. */
export function attributesJson(attributes: AccessAttributes): Json {
  if (attributes.kind === "nonResource") {
    return {
      nonResourceAttributes: {
        ...(attributes.path ? { path: attributes.path } : {}),
        ...(attributes.verb ? { verb: attributes.verb } : {}),
      },
    };
  }
  const resourceAttributes: Json = {};
  for (const key of ["namespace", "verb", "group", "version", "resource", "subresource", "name"] as const) {
    if (attributes[key] !== "") resourceAttributes[key] = attributes[key];
  }
  return { resourceAttributes };
}

/** A 422 Invalid Status for one field of a review. */
function invalidReview(kind: string, field: string, detail: string) {
  const group = "authorization.k8s.io";
  return failureStatus(422, `${kind}.${group} "" is invalid: ${field}: ${detail}`, "Invalid", {
    group,
    kind,
    causes: [{ reason: "FieldValueInvalid", message: detail, field }],
  });
}

function objectField(body: unknown, key: string): Json {
  const value = body !== null && typeof body === "object" ? (body as Json)[key] : undefined;
  return value !== null && typeof value === "object" ? (value as Json) : {};
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === "string") : [];
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function goStrings(values: readonly string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(" ")}]`;
}
