/**
 * Kubernetes Quantity strings, printed exactly like k8s.io/apimachinery `resource.Quantity.String()`.
 *
 * Every metric value leaves prom-adapter as a Quantity built the way upstream prometheus-adapter builds it:
 * `resource.NewMilliQuantity(int64(v*1000), format)`. All arithmetic is on BigInt; floats are never printed.
 * Checked against test/vectors/quantity.json.
 */

/** The serialisation formats of a Quantity. Any other string prints as DecimalExponent, like apimachinery. */
export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

/** Largest int64, 2^63 − 1. */
export const INT64_MAX = (1n << 63n) - 1n;
/** Smallest int64, −2^63. */
export const INT64_MIN = -(1n << 63n);

const DECIMAL_SI_SUFFIXES: ReadonlyMap<number, string> = new Map([
  [-9, "n"],
  [-6, "u"],
  [-3, "m"],
  [0, ""],
  [3, "k"],
  [6, "M"],
  [9, "G"],
  [12, "T"],
  [15, "P"],
  [18, "E"],
]);

/** Binary suffixes indexed by the power of 1024. */
const BINARY_SI_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;

const TWO_POW_63 = 2 ** 63;

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

/** Divides out `base` while the value stays divisible and at least `base` in magnitude (sign preserved). */
function removeFactors(value: bigint, base: bigint): { amount: bigint; times: number } {
  let amount = value;
  let times = 0;
  while (abs(amount) >= base && amount % base === 0n) {
    amount /= base;
    times += 1;
  }
  return { amount, times };
}

/** Go's sign-preserving `%` on a small integer. */
function goRemainder(value: number, divisor: number): number {
  const r = value % divisor;
  return r === 0 ? 0 : r; // normalise -0
}

/** Canonical decimal form: strip factors of ten, then move the exponent down to a multiple of three. */
function formatDecimal(mantissa: bigint, scale: number, format: "DecimalSI" | "DecimalExponent"): string {
  const stripped = removeFactors(mantissa, 10n);
  let amount = stripped.amount;
  let exponent = scale + stripped.times;
  switch (goRemainder(exponent, 3)) {
    case 1:
    case -2:
      amount *= 10n;
      exponent -= 1;
      break;
    case 2:
    case -1:
      amount *= 100n;
      exponent -= 2;
      break;
  }
  const siSuffix = format === "DecimalSI" ? DECIMAL_SI_SUFFIXES.get(exponent) : undefined;
  // NB: DecimalSI has no suffix beyond 10^-9…10^18; apimachinery then falls back to the exponent notation
  // rather than dropping the exponent (older releases printed "1000E" as "1"). Milli-units never get there.
  const suffix = siSuffix ?? (exponent === 0 ? "" : `e${exponent}`);
  return `${amount}${suffix}`;
}

/**
 * Prints `mantissa × 10^scale` as apimachinery's canonical Quantity string.
 *
 * - DecimalSI: `1500` milli → `"1500m"`, `1000000` milli → `"1k"`; exponent a multiple of 3, never a decimal point.
 * - BinarySI: integral values with magnitude ≥ 1024 use `Ki`…`Ei` (`1048576` → `"1Mi"`); everything else
 *   falls back to DecimalSI (`1024` milli → `"1024m"`).
 * - DecimalExponent (and any unknown format string): `"1e9"`, `"80e-3"`.
 * Zero prints `"0"`. `mantissa` is normally an int64 (as in Go); larger values follow apimachinery's inf.Dec path.
 *
 * @param mantissa unscaled value
 * @param scale power of ten (e.g. −3 for milli-units); an integer
 * @param format serialisation format
 */
export function formatQuantity(mantissa: bigint, scale: number, format: QuantityFormat): string {
  if (!Number.isSafeInteger(scale)) throw new RangeError(`quantity scale must be an integer, got ${scale}`);
  if (mantissa === 0n) return "0";
  if (format === "BinarySI") {
    const magnitude = abs(mantissa);
    const belowOneKi = scale >= 0 ? magnitude * pow10(scale) < 1024n : magnitude < 1024n * pow10(-scale);
    const integral = scale >= 0 || mantissa % pow10(-scale) === 0n;
    if (belowOneKi || !integral) return formatDecimal(mantissa, scale, "DecimalSI");
    return formatBinary(scale >= 0 ? mantissa * pow10(scale) : mantissa / pow10(-scale));
  }
  return formatDecimal(mantissa, scale, format === "DecimalSI" ? "DecimalSI" : "DecimalExponent");
}

function formatBinary(value: bigint): string {
  // NB: apimachinery's int64 path negates −2^63 in place, which overflows back to −2^63, so no factor of 1024 is
  // removed and it prints "-9223372036854775808" rather than "-8Ei".
  if (value === INT64_MIN) return value.toString();
  const { amount, times } = removeFactors(value, 1024n);
  // NB: beyond Ei there is no suffix and apimachinery prints the bare number (it ignores the lookup failure).
  return `${amount}${BINARY_SI_SUFFIXES[times] ?? ""}`;
}

/**
 * Upstream's `int64(v*1000)` without the platform-defined overflow: the float product truncated toward zero,
 * clamped to the int64 range. `-0` becomes `0n`. `v` must not be NaN.
 */
export function milliUnitsFromFloat(value: number): bigint {
  const product = value * 1000;
  if (Number.isNaN(product)) throw new RangeError("NaN has no milli-unit value");
  if (product >= TWO_POW_63) return INT64_MAX;
  if (product < -TWO_POW_63) return INT64_MIN;
  // NB: doubles of magnitude ≥ 2^53 are integers, so BigInt(Math.trunc(x)) is exact; never go through toFixed.
  return BigInt(Math.trunc(product));
}

/**
 * Quantity for a custom.metrics.k8s.io or external.metrics.k8s.io sample (upstream:
 * `resource.NewMilliQuantity(int64(v*1000), resource.DecimalSI)`).
 *
 * NaN prints `"0"`; ±Inf returns `null` (the caller drops and logs the sample); otherwise
 * `trunc(v × 1000)` milli-units, clamped to int64, in `format` (DecimalSI for these APIs).
 */
export function quantityFromSample(value: number, format: QuantityFormat): string | null {
  if (Number.isNaN(value)) return "0";
  if (!Number.isFinite(value)) return null;
  return formatQuantity(milliUnitsFromFloat(value), -3, format);
}

/**
 * Quantity for a metrics.k8s.io usage value (`cpu` in DecimalSI, `memory` in BinarySI).
 * NaN, negative values (including −Inf) and +Inf become 0 before formatting.
 */
export function quantityFromResourceUsage(value: number, format: QuantityFormat): string {
  const usable = Number.isNaN(value) || value < 0 || value === Number.POSITIVE_INFINITY ? 0 : value;
  return formatQuantity(milliUnitsFromFloat(usable), -3, format);
}

/** Raised by {@link parseQuantityMilliValue} for text that is not a Quantity. */
export class QuantityParseError extends Error {
  override name = "QuantityParseError";
}

interface ScannedQuantity {
  readonly negative: boolean;
  readonly num: string;
  readonly denom: string;
  readonly suffix: string;
}

const DIGIT = /[0-9]/;
const SUFFIX_LETTER = /[eEinumkKMGTP]/;

/** apimachinery's parseQuantityString: sign, digits, optional `.digits`, suffix letters, optional signed digits. */
function scanQuantity(text: string): ScannedQuantity {
  const end = text.length;
  let pos = 0;
  let negative = false;
  if (text[0] === "-" || text[0] === "+") {
    negative = text[0] === "-";
    pos = 1;
  }
  while (pos < end && text[pos] === "0") pos += 1;
  const numStart = pos;
  while (pos < end && DIGIT.test(text[pos] ?? "")) pos += 1;
  const num = text.slice(numStart, pos) || "0";
  let denom = "";
  if (pos < end && text[pos] === ".") {
    pos += 1;
    const denomStart = pos;
    while (pos < end && DIGIT.test(text[pos] ?? "")) pos += 1;
    denom = text.slice(denomStart, pos);
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_LETTER.test(text[pos] ?? "")) pos += 1;
  if (pos < end && (text[pos] === "-" || text[pos] === "+")) pos += 1;
  while (pos < end && DIGIT.test(text[pos] ?? "")) pos += 1;
  if (pos < end) {
    const pattern = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
    throw new QuantityParseError(`quantity ${JSON.stringify(text)} must match the regular expression '${pattern}'`);
  }
  return { negative, num, denom, suffix: text.slice(suffixStart) };
}

const DECIMAL_SI_EXPONENTS: ReadonlyMap<string, number> = new Map(
  [...DECIMAL_SI_SUFFIXES].map(([exponent, suffix]) => [suffix, exponent]),
);
const BINARY_SI_EXPONENTS: ReadonlyMap<string, number> = new Map(
  BINARY_SI_SUFFIXES.map((suffix, power) => [suffix, power * 10] as const).filter(([suffix]) => suffix !== ""),
);
const EXPONENT_SUFFIX = /^[eE][+-]?[0-9]+$/;
const INT32_MAX = 2 ** 31 - 1;

function interpretSuffix(text: string, suffix: string): { base: 2 | 10; exponent: number } {
  const decimal = DECIMAL_SI_EXPONENTS.get(suffix);
  if (decimal !== undefined) return { base: 10, exponent: decimal };
  const binary = BINARY_SI_EXPONENTS.get(suffix);
  if (binary !== undefined) return { base: 2, exponent: binary };
  if (EXPONENT_SUFFIX.test(suffix)) {
    const exponent = Number(suffix.slice(1));
    if (Math.abs(exponent) > INT32_MAX) {
      throw new RangeError(`quantity ${JSON.stringify(text)}: exponent out of range`);
    }
    return { base: 10, exponent };
  }
  throw new QuantityParseError(`quantity ${JSON.stringify(text)}: unable to parse quantity's suffix`);
}

/** ceil(n / d) for n ≥ 0, d > 0. */
function ceilDivide(n: bigint, d: bigint): bigint {
  return (n + d - 1n) / d;
}

/**
 * `resource.MustParse(text).MilliValue()`: the value in milli-units, rounded up (what the HPA and kubectl read).
 *
 * Follows apimachinery's grammar (`5.4` → 5400, `1Ki` → 1024000, `1n` → 1, `80e-3` → 80, `-1.5` → −1500):
 * parsing keeps nano precision, rounding finer non-zero values away from zero.
 *
 * @throws QuantityParseError for text that is not a Quantity.
 * @throws RangeError when the result does not fit an int64 (apimachinery silently overflows there), and for a
 *   negative value finer than milli (apimachinery's int64 and inf.Dec code paths round those differently).
 */
export function parseQuantityMilliValue(text: string): bigint {
  if (text === "") throw new QuantityParseError("quantity must not be empty");
  const { negative, num, denom, suffix } = scanQuantity(text);
  const { base, exponent } = interpretSuffix(text, suffix);

  // Exact value: magnitude × 10^power.
  let magnitude = BigInt(num + denom);
  let power = -denom.length;
  if (base === 10) power += exponent;
  else magnitude <<= BigInt(exponent);

  // Parsing keeps nano precision, rounding a finer non-zero value away from zero.
  if (power < -9 && magnitude !== 0n) {
    const shift = -9 - power;
    magnitude = shift > magnitude.toString().length ? 1n : ceilDivide(magnitude, pow10(shift));
    power = -9;
  }
  // NB: apimachinery also caps BinarySI values at 2^63 − 1 units; any such value overflows milli-units anyway.

  const milliPower = power + 3;
  let milli: bigint;
  if (magnitude === 0n) {
    milli = 0n;
  } else if (milliPower >= 0) {
    if (milliPower > 19) throw new RangeError(`quantity ${JSON.stringify(text)} overflows int64 milli-units`);
    milli = magnitude * pow10(milliPower);
  } else {
    const divisor = pow10(-milliPower);
    if (magnitude % divisor !== 0n && negative) {
      throw new RangeError(`quantity ${JSON.stringify(text)}: negative value finer than milli-units`);
    }
    milli = ceilDivide(magnitude, divisor);
  }
  const signed = negative ? -milli : milli;
  if (signed > INT64_MAX || signed < INT64_MIN) {
    throw new RangeError(`quantity ${JSON.stringify(text)} overflows int64 milli-units`);
  }
  return signed;
}
