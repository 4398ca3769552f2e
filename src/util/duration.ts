/**
 * Prometheus duration strings (`5m`, `1h30m`, `0`) and Go `time.Duration` printing (`5m0s`).
 * All values are in milliseconds.
 */

/** A duration in milliseconds. */
export type Milliseconds = number;

const UNIT_MS: ReadonlyArray<readonly [string, number]> = [
  ["y", 365 * 24 * 3600_000],
  ["w", 7 * 24 * 3600_000],
  ["d", 24 * 3600_000],
  ["h", 3600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

// NB: units must appear in the order above, each at most once, as Prometheus' model.ParseDuration requires.
const DURATION_PATTERN = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

export class DurationError extends Error {
  override readonly name = "DurationError";
}

/** Parses a Prometheus duration (`[0-9]+` followed by `y w d h m s ms`, in that order; `0` alone is allowed). */
export function parsePrometheusDuration(text: string): Milliseconds {
  if (text === "0") return 0;
  const match = text === "" ? null : DURATION_PATTERN.exec(text);
  if (!match) throw new DurationError(`not a valid duration string: "${text}"`);
  let total = 0;
  UNIT_MS.forEach(([, ms], index) => {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount) * ms;
  });
  if (!Number.isSafeInteger(total)) throw new DurationError(`duration out of range: "${text}"`);
  return total;
}

/** Prints milliseconds the way Prometheus does: largest units first, zero units skipped, `0s` for zero. */
export function formatPrometheusDuration(ms: Milliseconds): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of UNIT_MS) {
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      out += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return out;
}

/** Prints milliseconds as Go's `time.Duration.String()`: `5m0s`, `30s`, `1h0m0s`, `1m30s`, `1.5s`, `500ms`, `0s`. */
export function formatGoDuration(ms: Milliseconds): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${abs}ms`;
  const hours = Math.floor(abs / 3600_000);
  const minutes = Math.floor((abs % 3600_000) / 60_000);
  const millis = abs % 60_000;
  const seconds = Number.isInteger(millis / 1000) ? String(millis / 1000) : String(millis / 1000).replace(/0+$/, "");
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
