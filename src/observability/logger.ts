/**
 * The only writer to stdout/stderr. klog-style verbosity: `info(v, ...)` prints when `v <= --v`; warnings and errors
 * always print. Text lines look like klog (`I1126 22:21:21.123456 main.ts] message key=value`), JSON lines are one
 * object per line. Secrets never reach here: callers pass redacted values.
 */

export type LogFormat = "text" | "json";
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  /** Verbosity in force (`--v`, default 0). */
  readonly verbosity: number;
  enabled(level: number): boolean;
  info(level: number, message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** `--v`; default 0. */
  verbosity?: number;
  /** `--log-format`; default text. */
  format?: LogFormat;
  /** Where lines go; default stderr (as klog does with --logtostderr). */
  write?: (line: string) => void;
  now?: () => number;
}

export function createLogger({
  verbosity = 0,
  format = "text",
  write = (line) => process.stderr.write(line),
  now = Date.now,
}: LoggerOptions = {}): Logger {
  function emit(severity: "I" | "W" | "E", message: string, fields: LogFields | undefined): void {
    const time = new Date(now());
    if (format === "json") {
      write(`${JSON.stringify({ ts: time.toISOString(), level: LEVEL_NAMES[severity], msg: message, ...fields })}\n`);
      return;
    }
    const pad = (n: number, width = 2) => String(n).padStart(width, "0");
    const stamp =
      `${severity}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())} ` +
      `${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())}.${pad(time.getUTCMilliseconds(), 3)}`;
    write(`${stamp}] ${message}${formatFields(fields)}\n`);
  }
  return {
    verbosity,
    enabled: (level) => level <= verbosity,
    info(level, message, fields) {
      if (level <= verbosity) emit("I", message, fields);
    },
    warn: (message, fields) => emit("W", message, fields),
    error: (message, fields) => emit("E", message, fields),
  };
}

const LEVEL_NAMES = { I: "info", W: "warning", E: "error" } as const;

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return "";
  let out = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = typeof value === "string" ? value : value instanceof Error ? value.message : JSON.stringify(value);
    out += ` ${key}=${/[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text}`;
  }
  return out;
}

/** A logger that drops everything; for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ verbosity: -1, write: () => {} });

/** A logger that keeps lines in memory; for tests that assert on logs. */
export function createMemoryLogger(verbosity = 10): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ verbosity, write: (line) => lines.push(line.trimEnd()) });
  return Object.assign(logger, { lines });
}
