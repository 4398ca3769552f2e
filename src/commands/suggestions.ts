/** "Did you mean" helpers: edit distance and the closest candidates to a misspelt name. */

/** Levenshtein distance (insertions, deletions, substitutions; UTF-16 code units). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * Candidates close to `name`, closest first (ties keep candidate order), without duplicates and without `name`
 * itself. Close means an edit distance of at most `maxDistance` (default: a third of the name's length, at least 1,
 * at most 3), compared case-insensitively.
 */
export function closestNames(name: string, candidates: Iterable<string>, maxDistance?: number): string[] {
  const limit = maxDistance ?? Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  const lower = name.toLowerCase();
  const scored: { candidate: string; distance: number; order: number }[] = [];
  const seen = new Set<string>();
  let order = 0;
  for (const candidate of candidates) {
    if (candidate === name || seen.has(candidate)) continue;
    seen.add(candidate);
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= limit) scored.push({ candidate, distance, order: order++ });
  }
  return scored.sort((x, y) => x.distance - y.distance || x.order - y.order).map((entry) => entry.candidate);
}

/** Common suffixes that separate a series name from the metric name a rule makes of it; longest first. */
const METRIC_SUFFIXES = [
  "_seconds_total",
  "_bytes_total",
  "_per_second",
  "_total",
  "_seconds",
  "_bytes",
  "_count",
  "_sum",
];

/**
 * Metric names that differ from `name` by a common suffix (`http_requests` vs `http_requests_total` or
 * `http_requests_per_second`), in candidate order.
 */
export function suffixVariants(name: string, candidates: Iterable<string>): string[] {
  const stem = (text: string) => {
    for (const suffix of METRIC_SUFFIXES) if (text.endsWith(suffix)) return text.slice(0, -suffix.length);
    return text;
  };
  const wanted = stem(name);
  const out: string[] = [];
  for (const candidate of candidates) {
    if (candidate !== name && stem(candidate) === wanted && !out.includes(candidate)) out.push(candidate);
  }
  return out;
}
