import { describe, expect, test } from "bun:test";
import type { V1TokenReview } from "@kubernetes/client-node";
import { createManualClock } from "../util/clock.ts";
import { createTokenReviewer, TokenReviewError, type TokenReviewApi } from "./token-review.ts";

const PROMETHEUS_USER = {
  username: "system:serviceaccount:monitoring:prometheus-k8s",
  uid: "3c1a-uid",
  groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"],
  extra: { "authentication.kubernetes.io/pod-name": ["prometheus-k8s-0"] },
};

/** A TokenReview API that answers from a table and records every request body. */
function fakeApi(table: Record<string, V1TokenReview["status"] | Error>) {
  const requests: V1TokenReview[] = [];
  const api: TokenReviewApi = {
    async createTokenReview({ body }) {
      requests.push(body);
      const answer = table[body.spec.token];
      if (answer instanceof Error) throw answer;
      return { ...body, status: answer ?? { authenticated: false } };
    },
  };
  return { api, requests };
}

describe("createTokenReviewer", () => {
  test("sends the TokenReview k8s.io/apiserver sends and returns the user of an accepted token", async () => {
    const { api, requests } = fakeApi({
      good: { authenticated: true, user: PROMETHEUS_USER, audiences: ["https://kubernetes.default.svc"] },
    });
    const reviewer = createTokenReviewer({ api, clock: createManualClock() });
    expect(await reviewer.review("good")).toEqual(PROMETHEUS_USER);
    expect(requests).toEqual([
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "good" } },
    ]);
  });

  test.each([
    { name: "authenticated false", status: { authenticated: false, error: "token expired" } },
    { name: "authenticated omitted", status: { user: PROMETHEUS_USER } },
    { name: "no status", status: undefined },
  ])("rejects a token answered with $name", async ({ status }) => {
    const api: TokenReviewApi = { createTokenReview: async ({ body }) => ({ ...body, ...(status ? { status } : {}) }) };
    expect(await createTokenReviewer({ api }).review("t")).toBeNull();
  });

  test("fills absent user fields with empty values", async () => {
    const { api } = fakeApi({ bare: { authenticated: true, user: { username: "alice" } } });
    expect(await createTokenReviewer({ api }).review("bare")).toEqual({
      username: "alice",
      uid: "",
      groups: [],
      extra: {},
    });
  });

  test("reuses accepted and rejected answers within the TTL and asks again after it", async () => {
    const clock = createManualClock();
    const { api, requests } = fakeApi({ good: { authenticated: true, user: PROMETHEUS_USER } });
    const reviewer = createTokenReviewer({ api, clock, ttlMs: 10_000 });
    await reviewer.review("good");
    await reviewer.review("bad");
    clock.advance(9_999);
    expect(await reviewer.review("good")).toEqual(PROMETHEUS_USER);
    expect(await reviewer.review("bad")).toBeNull();
    expect(requests).toHaveLength(2);
    clock.advance(2);
    await reviewer.review("good");
    await reviewer.review("bad");
    expect(requests.map((request) => request.spec.token)).toEqual(["good", "bad", "good", "bad"]);
  });

  test("keeps answers per token", async () => {
    const { api, requests } = fakeApi({
      a: { authenticated: true, user: { username: "a" } },
      b: { authenticated: true, user: { username: "b" } },
    });
    const reviewer = createTokenReviewer({ api, clock: createManualClock() });
    expect([
      (await reviewer.review("a"))?.username,
      (await reviewer.review("b"))?.username,
      (await reviewer.review("a"))?.username,
    ]).toEqual(["a", "b", "a"]);
    expect(requests).toHaveLength(2);
  });

  test("coalesces concurrent reviews of one token into one call", async () => {
    const bodies: V1TokenReview[] = [];
    let release: (review: V1TokenReview) => void = () => {};
    const api: TokenReviewApi = {
      createTokenReview: ({ body }) => {
        bodies.push(body);
        return new Promise((resolve) => (release = resolve));
      },
    };
    const reviewer = createTokenReviewer({ api, clock: createManualClock() });
    const pending = Array.from({ length: 20 }, () => reviewer.review("same"));
    await Promise.resolve();
    expect(bodies).toHaveLength(1);
    release({ spec: { token: "same" }, status: { authenticated: true, user: { username: "u" } } });
    const users = await Promise.all(pending);
    expect(users.every((user) => user?.username === "u")).toBe(true);
  });

  test("propagates a failed call as TokenReviewError and does not cache it", async () => {
    const table: Record<string, V1TokenReview["status"] | Error> = {
      flaky: Object.assign(new Error("HTTP-Code: 500 Body: secret-token"), { code: 500 }),
    };
    const { api, requests } = fakeApi(table);
    const reviewer = createTokenReviewer({ api, clock: createManualClock() });
    const failure = await reviewer.review("flaky").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TokenReviewError);
    expect((failure as Error).message).toBe("TokenReview failed: HTTP 500");
    table.flaky = { authenticated: true, user: { username: "recovered" } };
    expect((await reviewer.review("flaky"))?.username).toBe("recovered");
    expect(requests).toHaveLength(2);
  });
});
