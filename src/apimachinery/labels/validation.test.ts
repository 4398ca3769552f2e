import { describe, expect, test } from "bun:test";
import { labelValueErrors } from "./validation.ts";

describe("labelValueErrors", () => {
  test("a 63-character label value is valid and a 64-character one is not", () => {
    const [at63, at64] = [labelValueErrors("a".repeat(63)), labelValueErrors("a".repeat(64)).length];
    expect({ at63, at64 }).toEqual({ at63: [], at64: 1 });
  });
});
