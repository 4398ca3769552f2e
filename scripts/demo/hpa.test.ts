import { describe, expect, test } from "bun:test";
import { decideReplicas, explainDecision, formatMilli, milliValue, QuantityError } from "./hpa.ts";

describe("milliValue", () => {
  test.each([
    { quantity: "900m", milli: 900 },
    { quantity: "700m", milli: 700 },
    { quantity: "2", milli: 2000 },
    { quantity: "1500", milli: 1_500_000 },
    { quantity: "10k", milli: 10_000_000 },
    { quantity: "1Ki", milli: 1_024_000 },
    { quantity: "0.1", milli: 100 },
    { quantity: "1.0005", milli: 1001 },
    { quantity: "1500u", milli: 2 },
    { quantity: "0", milli: 0 },
  ])("reads $quantity as $milli milli-units, rounding up like MilliValue()", ({ quantity, milli }) => {
    expect(milliValue(quantity)).toBe(milli);
  });

  test.each(["", "m", "1x", "abc", "1e3"])("rejects %p", (quantity) => {
    expect(() => milliValue(quantity)).toThrow(QuantityError);
  });
});

describe("decideReplicas", () => {
  test("scales three pods at 850m, 900m and 950m against 700m to four", () => {
    expect(decideReplicas({ valuesMilli: [850, 900, 950], targetMilli: 700 })).toEqual({
      currentReplicas: 3,
      sumMilli: 2700,
      averageMilli: 900,
      targetMilli: 700,
      ratio: 900 / 700,
      tolerance: 0.1,
      withinTolerance: false,
      desiredReplicas: 4,
    });
  });

  test.each([
    { name: "just inside the tolerance above", values: [769], target: 700, desired: 1, within: true },
    {
      name: "770m / 700m is 1.1000000000000001 in float64, so it is outside, as in Go",
      values: [770],
      target: 700,
      desired: 2,
      within: false,
    },
    { name: "just inside the tolerance below", values: [630, 630], target: 700, desired: 2, within: true },
    {
      name: "outside the tolerance below scales down",
      values: [300, 300, 300],
      target: 700,
      desired: 2,
      within: false,
    },
    {
      name: "the walkthrough's 673m against 700 (700000m) scales down to one",
      values: [673, 673],
      target: 700_000,
      desired: 1,
      within: false,
    },
    { name: "a doubled load doubles the replicas", values: [1400, 1400], target: 700, desired: 4, within: false },
  ])("$name", ({ values, target, desired, within }) => {
    const decision = decideReplicas({ valuesMilli: values, targetMilli: target });
    expect({ desired: decision.desiredReplicas, within: decision.withinTolerance }).toEqual({ desired, within });
  });

  test("averages with integer division, as the controller does", () => {
    expect(decideReplicas({ valuesMilli: [1, 2], targetMilli: 1 }).averageMilli).toBe(1);
  });

  test("refuses no values and a target of zero", () => {
    expect(() => decideReplicas({ valuesMilli: [], targetMilli: 700 })).toThrow(RangeError);
    expect(() => decideReplicas({ valuesMilli: [1], targetMilli: 0 })).toThrow(RangeError);
  });
});

describe("explainDecision", () => {
  test("shows the arithmetic of a scale-up", () => {
    const values = [850, 900, 950];
    expect(explainDecision(decideReplicas({ valuesMilli: values, targetMilli: 700 }), values)).toEqual([
      "average:  (850m + 900m + 950m) / 3 = 900m",
      "ratio:    900m / 700m = 1.286",
      "decision: |1.286 - 1| = 0.286 > 0.1 (tolerance), so the HPA acts",
      "desired:  ceil(3 × 1.286) = ceil(3.857) = 4 replicas",
    ]);
  });

  test("says when the HPA leaves the count alone", () => {
    const values = [700, 720];
    expect(explainDecision(decideReplicas({ valuesMilli: values, targetMilli: 700 }), values).at(-1)).toBe(
      "decision: |1.014 - 1| = 0.014 <= 0.1 (tolerance): no change, 2 replicas",
    );
  });

  test("formats whole numbers without the m suffix", () => {
    expect([formatMilli(2000), formatMilli(1500), formatMilli(0)]).toEqual(["2", "1500m", "0"]);
  });
});
