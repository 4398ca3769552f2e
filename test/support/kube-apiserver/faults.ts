/**
 * Fault injection: the next N requests whose path starts with a prefix are answered with a Status of a given code
 * instead of being served. Faults are consumed in the order they were added.
 */
import { statusForCode, statusResponse } from "./status.ts";

/** The fault table. */
export interface FaultInjector {
  /** Fails the next `times` requests (default 1) whose path starts with `pathPrefix`, with HTTP `status`. */
  failNext(pathPrefix: string, status: number, times?: number): void;
  /** The injected answer for `path`, consuming one use, or undefined. */
  take(path: string): Response | undefined;
  /** Forgets every pending fault. */
  clear(): void;
}

/** Creates an empty fault table. */
export function createFaultInjector(): FaultInjector {
  const faults: { pathPrefix: string; status: number; remaining: number }[] = [];
  return {
    failNext(pathPrefix, status, times = 1) {
      if (!Number.isInteger(status) || status < 400 || status > 599)
        throw new RangeError(`failNext needs an error status, got ${status}`);
      if (!Number.isInteger(times) || times < 1) throw new RangeError(`failNext needs times >= 1, got ${times}`);
      faults.push({ pathPrefix, status, remaining: times });
    },
    take(path) {
      const index = faults.findIndex((fault) => path.startsWith(fault.pathPrefix));
      if (index < 0) return undefined;
      const fault = faults[index]!;
      fault.remaining -= 1;
      if (fault.remaining === 0) faults.splice(index, 1);
      const status = statusForCode(fault.status, "injected fault");
      return statusResponse(status, fault.status === 429 ? { "retry-after": "1" } : {});
    },
    clear() {
      faults.length = 0;
    },
  };
}
