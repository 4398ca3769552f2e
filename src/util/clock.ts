/** An injectable clock, so tests advance time instead of sleeping. */
export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to; for tests. */
export function createManualClock(
  startMs = Date.UTC(2024, 4, 1, 12, 0, 0),
): Clock & { advance(ms: number): void; set(ms: number): void } {
  let current = startMs;
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
    set(ms) {
      current = ms;
    },
  };
}

/** `metav1.Time` text: RFC 3339 in UTC with whole seconds (the fraction is truncated). */
export function formatKubernetesTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
