/**
 * Entry point: parses flags, starts the adapter, handles signals and the exit code. The only file that touches
 * process.argv, process.env and process.exit.
 */
import { startAdapter, StartupError } from "./adapter.ts";
import { ConfigError } from "./config/errors.ts";
import { createLogger } from "./observability/logger.ts";
import { helpText, OptionsError, parseOptions, type Options } from "./options.ts";
import { systemClock } from "./util/clock.ts";
import { VERSION } from "./version.ts";

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`prom-adapter: ${error.message}\nRun with --help for the list of flags.\n`);
    return 2;
  }
  if (options.showHelp) {
    process.stdout.write(helpText());
    return 0;
  }
  if (options.showVersion) {
    process.stdout.write(`prom-adapter ${VERSION}\n`);
    return 0;
  }

  const logger = createLogger({ verbosity: options.verbosity, format: options.logFormat });
  let adapter;
  try {
    adapter = await startAdapter(options, { logger, clock: systemClock });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`prom-adapter: invalid rules file:\n${error.message}\n`);
      return 1;
    }
    if (error instanceof StartupError) {
      process.stderr.write(`prom-adapter: ${error.message}\n`);
      return 1;
    }
    throw error;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(0, "shutting down", { signal });
      void adapter.close(10_000).then(() => resolve(0));
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}

// NB: no top-level await: the compiled binary is built with --bytecode, which needs a CommonJS-compatible entry.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`prom-adapter: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(70);
  },
);
