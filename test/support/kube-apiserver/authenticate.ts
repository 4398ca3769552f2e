/**
 * Authentication of the stand-in's own callers, in kube-apiserver's order: a client certificate signed by the
 * cluster CA (user = CN, groups = O), then a bearer token (the admin token or one from the token table). Any other
 * request, including one with no credentials, is not authenticated (anonymous access is off). Authenticated users
 * get `system:authenticated`, like every real authenticator chain adds.
 */
import { isPeerTrustedBy, peerCertificateOf } from "../../../src/server/tls-peer.ts";
import type { CallerIdentity, TokenIdentity, UserInfo } from "./types.ts";

/** What a token means: a user, or `"invalid"` (rejected). */
export type TokenTable = ReadonlyMap<string, TokenIdentity | "invalid">;

/** Who the stand-in's admin token is. */
export const ADMIN_USER: UserInfo = { username: "system:admin", groups: ["system:masters"] };

/** Appends `system:authenticated` unless present (and for `system:anonymous`, who is not). */
export function withAuthenticatedGroup(groups: readonly string[] | undefined, username: string): string[] {
  const all = [...(groups ?? [])];
  if (username !== "system:anonymous" && !all.includes("system:authenticated")) all.push("system:authenticated");
  return all;
}

/** The bearer token of `Authorization`, if it is a well-formed `Bearer <token>`. */
export function bearerTokenOf(request: Request): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1];
}

/** Resolves a token against the admin token and the table; undefined when it is unknown or marked invalid. */
export function userOfToken(token: string, adminToken: string, tokens: TokenTable): TokenIdentity | undefined {
  if (token === adminToken) return ADMIN_USER;
  const entry = tokens.get(token);
  return entry === undefined || entry === "invalid" ? undefined : entry;
}

/** The caller of `request`, or undefined when it must be answered 401. */
export function authenticateCaller(
  request: Request,
  options: { caPem: string; adminToken: string; tokens: TokenTable; now: Date },
): CallerIdentity | undefined {
  const peer = peerCertificateOf(request);
  if (peer && isPeerTrustedBy(peer, options.caPem, options.now)) {
    return {
      username: peer.subjectCommonName,
      groups: withAuthenticatedGroup(peer.organizations, peer.subjectCommonName),
      via: "certificate",
    };
  }
  const token = bearerTokenOf(request);
  if (token === undefined) return undefined;
  const user = userOfToken(token, options.adminToken, options.tokens);
  if (!user) return undefined;
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: withAuthenticatedGroup(user.groups, user.username),
    ...(user.extra ? { extra: user.extra } : {}),
    via: "token",
  };
}
