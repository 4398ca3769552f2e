/**
 * dashboards/prom-adapter.json, checked for what Grafana needs and what the issue asks: unique panel ids, every panel
 * and query on the `datasource` variable, a valid grid (inside 24 columns, no overlaps), the namespace and pod
 * variables, the rows, and only series /metrics exposes. test/monitoring/scrape.test.ts runs every query against a
 * real Prometheus.
 */
import { describe, expect, test } from "bun:test";
import {
  allPanels,
  dashboard,
  exposedSeriesNames,
  metricNamesIn,
  parseLabelValues,
  variableQuery,
  type DashboardPanel,
} from "./monitoring-files.ts";

const board = dashboard();
const panels = allPanels(board);
const queryPanels = panels.filter((panel) => panel.type !== "row");
const DATASOURCE_UID = "${datasource}";

function overlap(a: DashboardPanel["gridPos"], b: DashboardPanel["gridPos"]): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe("the dashboard", () => {
  test("has a fixed uid and title, so re-imports replace it", () => {
    expect({ uid: board.uid, title: board.title }).toEqual({ uid: "prom-adapter", title: "prom-adapter" });
  });

  test("panel ids are unique positive integers", () => {
    const ids = panels.map((panel) => panel.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("has a Prometheus datasource variable, and namespace and pod variables from prom-adapter's series", () => {
    const variables = board.templating.list;
    expect(variables.map((variable) => variable.name)).toEqual(["datasource", "namespace", "pod"]);
    const [datasource, namespace, pod] = variables;
    expect({ type: datasource!.type, query: datasource!.query }).toEqual({ type: "datasource", query: "prometheus" });
    for (const [variable, label] of [
      [namespace!, "namespace"],
      [pod!, "pod"],
    ] as const) {
      expect(variable.type).toBe("query");
      expect(variable.datasource?.uid).toBe(DATASOURCE_UID);
      const parsed = parseLabelValues(variableQuery(variable));
      expect(parsed?.label).toBe(label);
      expect(metricNamesIn(parsed!.selector).every((name) => exposedSeriesNames().has(name))).toBe(true);
    }
    expect(variableQuery(pod!)).toContain('namespace="$namespace"');
  });

  test("every panel and every query uses the datasource variable", () => {
    for (const panel of queryPanels) {
      const title = panel.title;
      const { uid, type } = panel.datasource ?? {};
      expect({ title, uid, type }).toEqual({ title, uid: DATASOURCE_UID, type: "prometheus" });
      expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect({ title, uid: target.datasource?.uid }).toEqual({ title, uid: DATASOURCE_UID });
      }
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  test("every query filters on the namespace and pod variables", () => {
    for (const panel of queryPanels) {
      for (const target of panel.targets!) {
        const filtered = target.expr.includes('namespace="$namespace", pod=~"$pod"');
        expect({ expr: target.expr, filtered }).toEqual({ expr: target.expr, filtered: true });
      }
    }
  });

  test("grid positions are whole, inside 24 columns, and no two panels overlap", () => {
    for (const { title, gridPos } of panels) {
      const { x, y, w, h } = gridPos;
      const whole = [x, y, w, h].every(Number.isInteger);
      const inside = x >= 0 && y >= 0 && w >= 1 && h >= 1 && w <= 24 && x + w <= 24;
      expect({ title, whole, inside }).toEqual({ title, whole: true, inside: true });
    }
    for (const [index, a] of panels.entries()) {
      for (const b of panels.slice(index + 1)) {
        const pair = `${a.title} / ${b.title}`;
        expect({ pair, overlap: overlap(a.gridPos, b.gridPos) }).toEqual({ pair, overlap: false });
      }
    }
  });

  test("has the rows the issue lists, each followed by panels", () => {
    const rows = board.panels.filter((panel) => panel.type === "row").map((panel) => panel.title);
    expect(rows).toEqual([
      "Status",
      "Traffic and errors",
      "Latency",
      "Prometheus calls",
      "Discovery",
      "Freshness",
      "Query cache",
      "Reviews",
      "Reloads",
    ]);
    board.panels.forEach((panel, index) => {
      if (panel.type === "row") expect(board.panels[index + 1]?.type ?? "end").not.toBe("row");
    });
  });

  test("every query reads only series /metrics exposes, or up", () => {
    const known = new Set([...exposedSeriesNames(), "up"]);
    for (const panel of queryPanels) {
      for (const target of panel.targets!) {
        const names = metricNamesIn(target.expr);
        expect(names.length).toBeGreaterThan(0);
        const unknown = names.filter((name) => !known.has(name));
        expect({ panel: panel.title, unknown }).toEqual({ panel: panel.title, unknown: [] });
      }
    }
  });
});
