/**
 * PromQL as the rule compiler produces it: the branded expression type, label matchers built like upstream
 * prometheus-adapter's `fmt.Sprintf("%s<op>%q", label, value)` (Go quoting, not JSON), and a rule's per-query
 * additions.
 */
import { goQuote } from "../golang/strconv.ts";

declare const promqlBrand: unique symbol;

/** A PromQL expression, ready to send. Branded so a label value or selector string cannot be passed by mistake. */
export type PromQL = string & { readonly [promqlBrand]: true };

/** Marks `text` as a finished PromQL expression. It does not parse or validate it; Prometheus does. */
export function promql(text: string): PromQL {
  return text as PromQL;
}

/** PromQL label matching operators. */
export type MatchOperator = "=" | "!=" | "=~" | "!~";

/**
 * One PromQL label matcher: `label + op + goQuote(value)`, e.g. `namespace="somens"`, `pod=~"p1|p2"`.
 * The label is used verbatim (neither validated nor escaped) and the value is not regex-escaped, like upstream.
 */
export function labelMatcher(label: string, op: MatchOperator, value: string): string {
  return `${label}${op}${goQuote(value)}`;
}

/** Per-query additions (a rule's `prometheus:` section): extra parameters and headers. */
export interface QueryExtras {
  /** Added to `query` and `time`, e.g. Thanos' `partial_response`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** e.g. `X-Scope-OrgID`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The named backend to send it to (routing's choice); undefined: the default backend. */
  readonly backend?: string | undefined;
}
