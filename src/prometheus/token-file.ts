import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { PrometheusConfigError } from "./errors.ts";

/** A bearer token kept in a file that may be rewritten (Kubernetes projected service-account tokens rotate hourly). */
export interface TokenFile {
  /** The path it reads. */
  readonly path: string;
  /** The token as of now: the file's content with surrounding whitespace removed. */
  read(): Promise<string>;
}

/**
 * Reads `path` once now (throwing {@link PrometheusConfigError} when it is missing or empty, so a bad flag fails at
 * startup) and again on every {@link TokenFile.read}, so a rotated token is used from the next request on.
 *
 * NB: re-reading a small file costs one open+read (tens of microseconds), less than a stat-and-compare scheme would
 * save, and it cannot miss a rewrite that keeps size and mtime. If a later read fails or finds the file empty (a
 * writer that truncates before writing, or a symlink swap in progress), the last good token is used.
 *
 * NB: surrounding whitespace is trimmed (upstream sends the file verbatim, so a trailing newline broke the header).
 */
export function createTokenFile(path: string, what = "bearer token file"): TokenFile {
  let lastGood = readInitial(path, what);
  return {
    path,
    async read() {
      try {
        const token = (await readFile(path, "utf8")).trim();
        if (token !== "") lastGood = token;
      } catch {
        // keep lastGood; see the NB above
      }
      return lastGood;
    },
  };
}

function readInitial(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PrometheusConfigError(`cannot read ${what} ${JSON.stringify(path)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const token = text.trim();
  if (token === "") throw new PrometheusConfigError(`${what} ${JSON.stringify(path)} is empty`);
  return token;
}
