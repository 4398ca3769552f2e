/**
 * Rules reload without restart (upstream needs a restart, its issues #104 and #678): on SIGHUP (the caller calls
 * `reload()`) and when the file's content changes (checked every `interval`; reading through the path follows a
 * ConfigMap's `..data` symlink swap). A valid new file is compiled and handed to `apply`; an invalid one is logged with
 * every error and the old rules stay in force.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Logger } from "../observability/logger.ts";
import type { Milliseconds } from "../util/duration.ts";
import { ConfigError } from "./errors.ts";

export interface ReloadOutcome {
  readonly ok: boolean;
  /** false when the content had not changed (nothing was compiled). */
  readonly changed: boolean;
}

export interface RulesReloader {
  /** Re-reads the file now; compiles and applies it when its content changed (or always, with `force`). */
  reload(options?: { force?: boolean }): Promise<ReloadOutcome>;
  /** Starts the periodic content check. */
  start(): void;
  stop(): void;
}

export interface RulesReloaderOptions<Compiled> {
  /** The `--config` path, re-read through symlinks each time. */
  readonly file: string;
  /** Parses and compiles the text; throws ConfigError. */
  readonly compile: (text: string) => Compiled;
  /** Swaps the compiled rules in; runs only for valid files. */
  readonly apply: (compiled: Compiled) => void;
  /** Told about every attempt, for self-metrics. */
  readonly onOutcome?: (ok: boolean) => void;
  /** Content check period; default 30 s. */
  readonly interval?: Milliseconds;
  /** Text of the file as first loaded, so an unchanged file is not recompiled. */
  readonly initialText: string;
  readonly logger: Logger;
}

export function createRulesReloader<Compiled>({
  file,
  compile,
  apply,
  onOutcome,
  interval = 30_000,
  initialText,
  logger,
}: RulesReloaderOptions<Compiled>): RulesReloader {
  let lastDigest = digest(initialText);
  let timer: ReturnType<typeof setInterval> | null = null;
  let running: Promise<ReloadOutcome> | null = null;

  async function attempt(force: boolean): Promise<ReloadOutcome> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      logger.error("rules reload failed: cannot read the rules file; keeping the current rules", {
        file,
        error: (error as Error).message,
      });
      onOutcome?.(false);
      return { ok: false, changed: true };
    }
    const next = digest(text);
    if (!force && next === lastDigest) return { ok: true, changed: false };
    try {
      const compiled = compile(text);
      apply(compiled);
      lastDigest = next;
      logger.info(0, "rules reloaded", { file });
      onOutcome?.(true);
      return { ok: true, changed: true };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Remember the rejected content too, so the same bad file is reported once, not every interval.
      lastDigest = next;
      logger.error(`rules reload rejected; keeping the current rules:\n${error.message}`, { file });
      onOutcome?.(false);
      return { ok: false, changed: true };
    }
  }

  function reload({ force = false } = {}): Promise<ReloadOutcome> {
    if (!running) {
      running = attempt(force).finally(() => {
        running = null;
      });
    }
    return running;
  }

  return {
    reload,
    start() {
      if (timer) return;
      timer = setInterval(() => void reload(), interval);
      timer.unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
