import { describe, expect, test } from "bun:test";
import { headersWithPrefixOf, headerValuesOf, recordRawHeaders } from "./raw-headers.ts";

const rawHeaders = [
  "Host",
  "localhost",
  "X-Remote-Group",
  "a",
  "x-remote-group",
  "b,c",
  "X-Remote-Extra-Scopes",
  "read",
  "X-Remote-Extra-Scopes",
  "write",
];

function recorded(): Request {
  const request = new Request("https://localhost:6443/apis");
  recordRawHeaders(request, rawHeaders);
  return request;
}

describe("raw header lines", () => {
  test("give every value of a header in order, matching the name case-insensitively", () => {
    expect(headerValuesOf(recorded(), "X-REMOTE-GROUP")).toEqual(["a", "b,c"]);
  });

  test("give nothing for a header that was not sent", () => {
    expect(headerValuesOf(recorded(), "x-remote-user")).toEqual([]);
  });

  test("give every line of every header with a prefix, names as received", () => {
    expect(headersWithPrefixOf(recorded(), "x-remote-extra-")).toEqual([
      ["X-Remote-Extra-Scopes", "read"],
      ["X-Remote-Extra-Scopes", "write"],
    ]);
  });

  test("fall back to the joined Fetch values for a request the listener did not record", () => {
    const request = new Request("https://localhost:6443/apis", {
      headers: [
        ["X-Remote-Group", "a"],
        ["X-Remote-Group", "b"],
        ["X-Remote-Extra-Scopes", "read"],
      ],
    });
    expect({
      groups: headerValuesOf(request, "x-remote-group"),
      extra: headersWithPrefixOf(request, "X-Remote-Extra-"),
    }).toEqual({
      groups: ["a, b"],
      extra: [["x-remote-extra-scopes", "read"]],
    });
  });
});
