import { expect, test } from "bun:test";
import { ApiError } from "../apimachinery/status.ts";
import { pathAfter, pathSegments } from "./path-segments.ts";

test.each([
  ["nothing", "", []],
  ["plain segments", "v1beta1/namespaces/default/queue_depth", ["v1beta1", "namespaces", "default", "queue_depth"]],
  ["percent-encoding, decoded once", "v1beta1/pods/%2A/a%252Fb", ["v1beta1", "pods", "*", "a%2Fb"]],
])("pathSegments splits %s", (_, rest, expected) => {
  expect(pathSegments(rest)).toEqual(expected);
});

test.each([
  ["an empty segment", "v1beta1//pods", 404],
  ["a trailing slash", "v1beta1/pods/", 404],
  ["bad percent-encoding", "v1beta1/%E0%A4%A", 400],
])("pathSegments rejects %s", (_, rest, code) => {
  let thrown: unknown;
  try {
    pathSegments(rest);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ApiError);
  expect((thrown as ApiError).code).toBe(code);
});

test("pathAfter gives the raw rest of the path under a prefix", () => {
  expect(pathAfter(new Request("http://x/apis/g/v1/a%2Ab?q=1"), "/apis/g")?.rest).toBe("v1/a%2Ab");
  expect(pathAfter(new Request("http://x/apis/gg/v1"), "/apis/g")).toBeNull();
});
