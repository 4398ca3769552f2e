import { describe, expect, test } from "bun:test";
import { formatGoDuration, formatPrometheusDuration, parsePrometheusDuration } from "./duration.ts";

describe("Prometheus durations", () => {
  test.each([
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["0", 0],
    ["0s", 0],
    ["90s", 90_000],
    ["1d", 86_400_000],
    ["100ms", 100],
    ["1m500ms", 60_500],
  ])("%s parses to %d ms", (text, ms) => {
    expect(parsePrometheusDuration(text)).toBe(ms);
  });

  test.each(["", "5", "m", "1m1h", "1.5m", "-1m", "5 m", "1mm"])("%p is rejected", (text) => {
    expect(() => parsePrometheusDuration(text)).toThrow("not a valid duration string");
  });

  test.each([
    [300_000, "5m"],
    [5_400_000, "1h30m"],
    [0, "0s"],
    [90_000, "1m30s"],
  ])("%d ms prints as %s", (ms, text) => {
    expect(formatPrometheusDuration(ms)).toBe(text);
  });
});

describe("Go durations", () => {
  test.each([
    [300_000, "5m0s"],
    [30_000, "30s"],
    [3_600_000, "1h0m0s"],
    [90_000, "1m30s"],
    [1_500, "1.5s"],
    [500, "500ms"],
    [0, "0s"],
  ])("%d ms prints as %s", (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});
