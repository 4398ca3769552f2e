/**
 * What the HorizontalPodAutoscaler controller does with a `Pods` metric and an `AverageValue` target (Kubernetes'
 * replica calculator, all pods ready and reporting): average the per-pod values in milli-units (integer division),
 * take the ratio to the target, keep the current count when the ratio is within the tolerance of 1 (default 0.1,
 * the controller's --horizontal-pod-autoscaler-tolerance), otherwise want ceil(ratio × current pods). minReplicas,
 * maxReplicas and the scale-down stabilisation window apply afterwards and are not modelled.
 */

/** Suffix → multiplier of a Kubernetes Quantity. */
const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export class QuantityError extends Error {
  override readonly name = "QuantityError";
}

/**
 * The quantity in milli-units, rounded up like client-go's `Quantity.MilliValue()` (what the HPA reads):
 * `"900m"` → 900, `"2"` → 2000, `"1500k"` → 1 500 000 000, `"1.0005"` → 1001. Throws QuantityError when the text is
 * not a quantity.
 */
export function milliValue(quantity: string): number {
  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(quantity.trim());
  if (!match) throw new QuantityError(`not a Kubernetes quantity: ${JSON.stringify(quantity)}`);
  const milli = Number(match[1]) * SUFFIXES[match[2] ?? ""]! * 1000;
  // NB: round away float noise first (0.1 * 1000 is 100.00000000000001), then round up as MilliValue does.
  return Math.ceil(Number(milli.toPrecision(15)));
}

/** Formats milli-units the way Kubernetes prints small quantities: `900m`, `2`, `1500m`. */
export function formatMilli(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Inputs of {@link decideReplicas}. */
export interface HpaInput {
  /** Per-pod metric values in milli-units, one per ready pod of the scale target. */
  readonly valuesMilli: readonly number[];
  /** The target `averageValue` in milli-units. */
  readonly targetMilli: number;
  /** Default 0.1. */
  readonly tolerance?: number;
}

/** The controller's arithmetic, step by step. */
export interface HpaDecision {
  readonly currentReplicas: number;
  readonly sumMilli: number;
  /** Integer average in milli-units, as the controller computes it. */
  readonly averageMilli: number;
  readonly targetMilli: number;
  /** averageMilli / targetMilli. */
  readonly ratio: number;
  readonly tolerance: number;
  /** |ratio − 1| ≤ tolerance: the HPA keeps the current replica count. */
  readonly withinTolerance: boolean;
  readonly desiredReplicas: number;
}

/** Computes the replica count an HPA would want. Throws RangeError without values or with a target ≤ 0. */
export function decideReplicas({ valuesMilli, targetMilli, tolerance = 0.1 }: HpaInput): HpaDecision {
  if (valuesMilli.length === 0)
    throw new RangeError("no metric values: the HPA reports `no metrics returned from custom metrics API`");
  if (!(targetMilli > 0)) throw new RangeError(`the target must be greater than 0, got ${targetMilli}m`);
  const currentReplicas = valuesMilli.length;
  const sumMilli = valuesMilli.reduce((sum, value) => sum + value, 0);
  const averageMilli = Math.trunc(sumMilli / currentReplicas);
  const ratio = averageMilli / targetMilli;
  const withinTolerance = Math.abs(1 - ratio) <= tolerance;
  const desiredReplicas = withinTolerance ? currentReplicas : Math.ceil(ratio * currentReplicas);
  return { currentReplicas, sumMilli, averageMilli, targetMilli, ratio, tolerance, withinTolerance, desiredReplicas };
}

/** The decision as lines of arithmetic for people, e.g. `desired:  ceil(3 × 1.286) = ceil(3.857) = 4 replicas`. */
export function explainDecision(decision: HpaDecision, valuesMilli: readonly number[]): string[] {
  const { currentReplicas, averageMilli, targetMilli, ratio, tolerance, withinTolerance, desiredReplicas } = decision;
  const ratioText = ratio.toFixed(3);
  const deviation = Math.abs(1 - ratio).toFixed(3);
  const lines = [
    `average:  (${valuesMilli.map(formatMilli).join(" + ")}) / ${currentReplicas} = ${formatMilli(averageMilli)}`,
    `ratio:    ${formatMilli(averageMilli)} / ${formatMilli(targetMilli)} = ${ratioText}`,
  ];
  if (withinTolerance) {
    lines.push(
      `decision: |${ratioText} - 1| = ${deviation} <= ${tolerance} (tolerance): no change, ${currentReplicas} replicas`,
    );
  } else {
    const product = (ratio * currentReplicas).toFixed(3);
    lines.push(`decision: |${ratioText} - 1| = ${deviation} > ${tolerance} (tolerance), so the HPA acts`);
    lines.push(`desired:  ceil(${currentReplicas} × ${ratioText}) = ceil(${product}) = ${desiredReplicas} replicas`);
  }
  return lines;
}
