/**
 * A data-driven Prometheus for unit tests, in the spirit of upstream prometheus-adapter's `FakePrometheusClient`
 * (`SeriesResults`, `QueryResults`): it implements the {@link PrometheusClient} contract from tables keyed by exact
 * PromQL and by series selector, records every call it receives, and rejects where a table holds an error (build one
 * of a given kind with {@link prometheusFailure}). Tests that can afford a process use the real Prometheus
 * (prometheus.ts); this is for the provider and explain unit tests, which check exact queries and exact answers.
 */
import type { PromQL, QueryExtras } from "../../src/naming/promql.ts";
import type { PrometheusClient } from "../../src/prometheus/client.ts";
import { PrometheusError, type PrometheusErrorKind } from "../../src/prometheus/errors.ts";
import type { SeriesVisitor } from "../../src/prometheus/series-stream.ts";
import type { QueryResult, SeriesLabels, VectorSample } from "../../src/prometheus/types.ts";
import { compareStrings } from "../../src/util/compare.ts";

/** What one instant query gets: a result, the samples of a vector, or the error the call rejects with. */
export type FakeQueryAnswer = QueryResult | readonly VectorSample[] | Error;

export interface FakePrometheusTables {
  /** Instant-query answers keyed by the exact PromQL text. */
  readonly queries?: Readonly<Record<string, FakeQueryAnswer>>;
  /**
   * What a query missing from `queries` gets. `"empty"` (the default): an empty vector, Prometheus' answer for a
   * selector that matches nothing. `"reject"`: a `PrometheusError` of kind `api` naming the query, for tests that
   * must notice a query they did not expect.
   */
  readonly unknownQuery?: "empty" | "reject";
  /**
   * `/api/v1/series` answers keyed by `match[]` selector: label sets (`__name__` included), or the error the call
   * rejects with. A call with several selectors gets the union in selector order; a selector missing from the table
   * matches nothing. Label values are taken from these label sets too.
   */
  readonly series?: Readonly<Record<string, readonly SeriesLabels[] | Error>>;
}

/** An instant query the fake received (time in Unix seconds; `extras` only when given). */
export interface FakeQueryCall {
  readonly endpoint: "query";
  readonly query: string;
  readonly timeSeconds: number;
  readonly extras?: QueryExtras;
}

/** One call the fake received, with its arguments (times in Unix seconds). */
export type FakePrometheusCall =
  | FakeQueryCall
  | Readonly<{ endpoint: "series"; matches: readonly string[]; startSeconds: number }>
  | Readonly<{ endpoint: "label values"; label: string; matches: readonly string[]; startSeconds: number }>
  | Readonly<{ endpoint: "label names"; matches: readonly string[]; startSeconds: number }>;

export interface FakePrometheus extends PrometheusClient {
  /** Every call, in the order received (streamed series calls are recorded as `series`). */
  readonly calls: readonly FakePrometheusCall[];
  /** The query calls alone, in order; a live list like `calls`. */
  readonly queryCalls: readonly FakeQueryCall[];
  /** The PromQL of every query call, in order. */
  queries(): string[];
}

export function createFakePrometheus(tables: FakePrometheusTables = {}): FakePrometheus {
  const { queries = {}, unknownQuery = "empty", series = {} } = tables;
  const calls: FakePrometheusCall[] = [];
  const queryCalls: FakeQueryCall[] = [];
  const unknownAnswer = (query: string): FakeQueryAnswer =>
    unknownQuery === "empty" ? [] : prometheusFailure("api", { detail: `unexpected query ${query}` });
  const seriesOf = (matches: readonly string[]): SeriesLabels[] => {
    const found: SeriesLabels[] = [];
    for (const match of matches) {
      const answer = series[match];
      if (answer instanceof Error) throw answer;
      found.push(...(answer ?? []));
    }
    return found;
  };
  // Without matches Prometheus answers from its index: every label set in the tables, whatever fails elsewhere.
  const labelSetsFor = (matches: readonly string[]): readonly SeriesLabels[] =>
    matches.length > 0
      ? seriesOf(matches)
      : Object.values(series).flatMap((answer) => (answer instanceof Error ? [] : answer));
  const client: PrometheusClient = {
    async query(query: PromQL, timeSeconds: number, signal?: AbortSignal, extras?: QueryExtras) {
      const call: FakeQueryCall = { endpoint: "query", query, timeSeconds, ...(extras ? { extras } : {}) };
      calls.push(call);
      queryCalls.push(call);
      signal?.throwIfAborted();
      const answer = Object.hasOwn(queries, query) ? queries[query]! : unknownAnswer(query);
      if (answer instanceof Error) throw answer;
      return isQueryResult(answer) ? answer : { resultType: "vector", result: answer };
    },
    async series(matches, startSeconds, signal) {
      calls.push({ endpoint: "series", matches: [...matches], startSeconds });
      signal?.throwIfAborted();
      return seriesOf(matches);
    },
    async streamSeries(matches, startSeconds, visit: SeriesVisitor, signal) {
      calls.push({ endpoint: "series", matches: [...matches], startSeconds });
      signal?.throwIfAborted();
      const found = seriesOf(matches);
      for (const labels of found) {
        visit(
          labels.__name__,
          Object.keys(labels).filter((label) => label !== "__name__"),
        );
      }
      return found.length;
    },
    async labelValues(label, startSeconds, matches = [], signal) {
      calls.push({ endpoint: "label values", label, matches: [...matches], startSeconds });
      signal?.throwIfAborted();
      const values = new Set(
        labelSetsFor(matches).flatMap((labels) => (labels[label] === undefined ? [] : [labels[label]])),
      );
      // Prometheus answers label values sorted (byte order).
      return [...values].sort(compareStrings);
    },
    async labelNames(matches, startSeconds, signal) {
      calls.push({ endpoint: "label names", matches: [...matches], startSeconds });
      signal?.throwIfAborted();
      return [...new Set(labelSetsFor(matches).flatMap((labels) => Object.keys(labels)))].sort(compareStrings);
    },
  };
  return { ...client, calls, queryCalls, queries: () => queryCalls.map((call) => call.query) };
}

/** Options of {@link prometheusFailure}. */
export interface FailureOptions {
  /** The endpoint below `/api/v1/`. Default `query`. */
  readonly endpoint?: string;
  /** What went wrong, after the `<kind>: ` (or `<errorType>: `) prefix. Default a typical text for the kind. */
  readonly detail?: string;
}

/** A `PrometheusError` of `kind` as the real client builds it (message prefix, status code, `errorType`). */
export function prometheusFailure(kind: PrometheusErrorKind, options: FailureOptions = {}): PrometheusError {
  const { endpoint = "query", detail } = options;
  const url = `http://prometheus.test:9090/api/v1/${endpoint}`;
  const typical = TYPICAL_FAILURES[kind];
  const prefix = typical.errorType ?? kind;
  const { statusCode, errorType } = typical;
  return new PrometheusError(kind, `${prefix}: ${detail ?? typical.detail}`, { endpoint, url, statusCode, errorType });
}

/** What the real transport reports for each kind (see src/prometheus/http-transport.ts and envelope.ts). */
const TYPICAL_FAILURES: Record<PrometheusErrorKind, { detail: string; statusCode?: number; errorType?: string }> = {
  network: { detail: "connection refused" },
  timeout: { detail: "no complete response within 10000 ms" },
  api: { detail: "query processing would load too many samples into memory", statusCode: 422, errorType: "execution" },
  bad_response: { detail: "unknown response code 502", statusCode: 502 },
  too_large: { detail: "response body exceeds 67108864 bytes", statusCode: 200 },
};

function isQueryResult(answer: QueryResult | readonly VectorSample[]): answer is QueryResult {
  return !Array.isArray(answer);
}
