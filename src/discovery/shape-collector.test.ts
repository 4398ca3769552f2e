import { describe, expect, test } from "bun:test";
import { collapseShapes } from "./series-lister.ts";
import { createShapeCollector } from "./shape-collector.ts";

describe("the shape collector", () => {
  test("identical name and label-name sets collapse, whatever the label values", () => {
    const collector = createShapeCollector();
    for (let pod = 0; pod < 1000; pod++) collector.add("http_requests_total", ["namespace", "pod"]);
    collector.add("http_requests_total", ["namespace"]);
    expect(collector.shapes()).toEqual([
      { name: "http_requests_total", labelNames: ["namespace", "pod"] },
      { name: "http_requests_total", labelNames: ["namespace"] },
    ]);
    expect(collector.seriesSeen).toBe(1001);
  });

  test("the same label names in another order are one shape, with sorted names", () => {
    const collector = createShapeCollector();
    collector.add("m", ["pod", "namespace"]);
    collector.add("m", ["namespace", "pod"]);
    expect(collector.shapes()).toEqual([{ name: "m", labelNames: ["namespace", "pod"] }]);
  });

  test("shapes are ordered by their last series, so later series still overwrite earlier ones", () => {
    const collector = createShapeCollector();
    collector.add("a", ["pod"]);
    collector.add("b", ["pod"]);
    collector.add("a", ["pod"]);
    expect(collector.shapes().map((shape) => shape.name)).toEqual(["b", "a"]);
  });

  test("series without a name are counted but not kept", () => {
    const collector = createShapeCollector();
    collector.add(undefined, ["job"]);
    expect({ shapes: collector.shapes(), seen: collector.seriesSeen }).toEqual({ shapes: [], seen: 1 });
  });

  test("the caller may reuse its label-name array", () => {
    const collector = createShapeCollector();
    const labels = ["namespace", "pod"];
    collector.add("m", labels);
    labels.length = 0;
    labels.push("job");
    collector.add("m", labels);
    expect(collector.shapes()).toEqual([
      { name: "m", labelNames: ["namespace", "pod"] },
      { name: "m", labelNames: ["job"] },
    ]);
  });

  test("collapseShapes over label objects agrees with the collector", () => {
    expect(
      collapseShapes([
        { __name__: "a", pod: "1" },
        { pod: "x" },
        { __name__: "b", namespace: "n" },
        { __name__: "a", pod: "2" },
      ]),
    ).toEqual([
      { name: "b", labelNames: ["namespace"] },
      { name: "a", labelNames: ["pod"] },
    ]);
  });
});
