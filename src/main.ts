/**
 * Entry point: parses flags, starts the adapter, handles signals and the exit code. The only file that touches
 * process.argv, process.env and process.exit.
 */
import { startAdapter, StartupError, type RunningAdapter } from "./app/start.ts";
import { isSubcommand, runSubcommand } from "./commands/cli.ts";
import { ConfigError } from "./config/errors.ts";
import { createLogger } from "./observability/logger.ts";
import { helpText, OptionsError, parseOptions, type Options } from "./options.ts";
import { systemClock } from "./util/clock.ts";
import { VERSION } from "./util/version.ts";

async function main(argv: readonly string[]): Promise<number> {
  // The operator tools: `prom-adapter check ...` and `prom-adapter explain ...` (see commands/cli.ts).
  if (isSubcommand(argv[0])) {
    // NB: each write resolves once flushed; process.exit right after a plain write truncates output to a slow pipe.
    const flushed = (stream: NodeJS.WriteStream) => (text: string) =>
      new Promise<void>((resolve) => stream.write(text, () => resolve()));
    return runSubcommand(argv, { stdout: flushed(process.stdout), stderr: flushed(process.stderr), env: process.env });
  }
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
  // NB: signal handlers are installed before the listener starts, so a SIGHUP or SIGTERM that arrives right after the
  // "serving" line (or during startup) is handled instead of taking the default action.
  let adapter: RunningAdapter | undefined;
  let stopSignal: string | undefined;
  let reloadRequested = false;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const shutDown = (running: RunningAdapter, signal: string) => {
    logger.info(0, "shutting down", { signal });
    void running.close().then(() => finish(0));
  };
  const stop = (signal: string) => {
    if (stopSignal !== undefined) return;
    stopSignal = signal;
    if (adapter) shutDown(adapter, signal);
  };
  const reload = () => {
    if (adapter === undefined) {
      reloadRequested = true;
      return;
    }
    if (adapter.reloader) void adapter.reloader.reload({ force: true });
    else logger.warn("SIGHUP ignored: the embedded default rules are in use (pass --config to reload a file)");
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", reload);

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
  if (stopSignal !== undefined) shutDown(adapter, stopSignal);
  else if (reloadRequested) reload();
  return finished;
}

// NB: no top-level await: the compiled binary is built with --bytecode, which needs a CommonJS-compatible entry.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `prom-adapter: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(70);
  },
);
