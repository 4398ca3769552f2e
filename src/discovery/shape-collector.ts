/**
 * Collapses a stream of series into distinct shapes (metric name + set of label names) as they arrive, so memory
 * follows the number of shapes, never the number of series. Series are walked through a small trie keyed by the
 * label names in the order they come (Prometheus sends them sorted), which costs a few Map lookups per series and
 * allocates nothing for a shape already seen.
 */
import type { SeriesShape } from "./registry.ts";

/** Collects shapes; see {@link createShapeCollector}. */
export interface ShapeCollector {
  /** Adds one series. `labelNames` excludes `__name__` and may be reused by the caller afterwards. A series without a name is ignored. */
  add(name: string | undefined, labelNames: readonly string[]): void;
  /**
   * The distinct shapes ordered by the LAST series that had each one, label names sorted. Feeding them to the
   * registry in this order gives exactly what feeding every series in response order would (later entries overwrite
   * earlier ones, as upstream's registry does).
   */
  shapes(): SeriesShape[];
  /** Series added, named or not. */
  readonly seriesSeen: number;
}

interface ShapeRecord {
  readonly shape: SeriesShape;
  lastSeen: number;
}

interface TrieNode {
  children: Map<string, TrieNode> | undefined;
  record: ShapeRecord | undefined;
}

/** Creates an empty collector. */
export function createShapeCollector(): ShapeCollector {
  const roots = new Map<string, TrieNode>();
  // NB: one record per label-name SET; two trie paths (same names in another order) share it.
  const records = new Map<string, ShapeRecord>();
  let seen = 0;

  function recordFor(name: string, labelNames: readonly string[]): ShapeRecord {
    const sorted = [...labelNames].sort();
    const key = `${name}\u0000${sorted.join("\u0000")}`;
    let record = records.get(key);
    if (record === undefined) {
      record = { shape: { name, labelNames: sorted }, lastSeen: 0 };
      records.set(key, record);
    }
    return record;
  }

  return {
    add(name, labelNames) {
      const sequence = ++seen;
      if (name === undefined) return;
      let node: TrieNode | undefined = roots.get(name);
      if (node === undefined) {
        node = { children: undefined, record: undefined };
        roots.set(name, node);
      }
      for (const label of labelNames) {
        let child: TrieNode | undefined = node.children?.get(label);
        if (child === undefined) {
          child = { children: undefined, record: undefined };
          node.children ??= new Map();
          node.children.set(label, child);
        }
        node = child;
      }
      node.record ??= recordFor(name, labelNames);
      node.record.lastSeen = sequence;
    },
    shapes() {
      return [...records.values()].sort((a, b) => a.lastSeen - b.lastSeen).map((record) => record.shape);
    },
    get seriesSeen() {
      return seen;
    },
  };
}
