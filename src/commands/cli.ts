/**
 * The operator subcommands: `prom-adapter check ...` and `prom-adapter explain ...` (the first argument selects
 * one). They take the server's flags (parseOptions) plus `--output text|json` and positional arguments, print a
 * report on stdout and return the exit code (see exit-codes.ts).
 */
import { FLAGS, OptionsError, parseOptions, type FlagName, type Options } from "../options.ts";
import { createLogger } from "../observability/logger.ts";
import { runCheck } from "./check/check.ts";
import { formatCheckText } from "./check/format.ts";
import { UnreachableError, UsageError } from "./environment.ts";
import { runExplain } from "./explain/explain.ts";
import { formatExplainText } from "./explain/format.ts";
import { PATH_EXAMPLES } from "./explain/request.ts";
import { EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE } from "./exit-codes.ts";

export const SUBCOMMANDS = ["check", "explain"] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export function isSubcommand(word: string | undefined): word is Subcommand {
  return word !== undefined && (SUBCOMMANDS as readonly string[]).includes(word);
}

/**
 * Where a subcommand writes, and the environment it reads (for the in-cluster check). Writes are awaited: the
 * entry point exits right after, so they must resolve once the text is flushed (a pipe may be slow to read).
 */
export interface SubcommandIo {
  readonly stdout: (text: string) => void | Promise<void>;
  readonly stderr: (text: string) => void | Promise<void>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type OutputFormat = "text" | "json";

export interface SubcommandArgs {
  readonly command: Subcommand;
  readonly options: Options;
  /** Server flags written on the command line (canonical names; aliases resolved). */
  readonly given: ReadonlySet<FlagName>;
  readonly positionals: readonly string[];
  readonly output: OutputFormat;
}

/**
 * Splits `<command> [flags] [positionals]` into the server's flags (parsed by parseOptions), `--output`/`-o`, and
 * positionals (anything not starting with `-`, and everything after `--`). Throws OptionsError or UsageError.
 */
export function parseSubcommandArgs(argv: readonly string[]): SubcommandArgs {
  const [command, ...rest] = argv;
  if (!isSubcommand(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const aliases = new Map<string, FlagName>();
  for (const [name, spec] of Object.entries(FLAGS) as [FlagName, { alias?: string }][])
    if (spec.alias) aliases.set(spec.alias, name);
  const flagArgs: string[] = [];
  const positionals: string[] = [];
  const given = new Set<FlagName>();
  let output: string = "text";
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === "--") {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    const match = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!match || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const written = match[1] as string;
    if (written === "output" || written === "o") {
      const value = match[2] ?? rest[++i];
      if (value === undefined) throw new UsageError(`--${written} needs a value (text or json)`);
      output = value;
      continue;
    }
    const name = (Object.hasOwn(FLAGS, written) ? written : aliases.get(written)) as FlagName | undefined;
    flagArgs.push(arg);
    if (name === undefined) continue; // parseOptions names it
    given.add(name);
    if (FLAGS[name].kind !== "boolean" && match[2] === undefined && i + 1 < rest.length)
      flagArgs.push(rest[++i] as string);
  }
  if (output !== "text" && output !== "json")
    throw new UsageError(`--output must be text or json, got ${JSON.stringify(output)}`);
  return { command, options: parseOptions(flagArgs), given, positionals, output };
}

/** Runs `check` or `explain`; resolves to the exit code. Never throws for user errors. */
export async function runSubcommand(argv: readonly string[], io: SubcommandIo): Promise<number> {
  const command = argv[0] as Subcommand;
  let args: SubcommandArgs;
  try {
    args = parseSubcommandArgs(argv);
  } catch (error) {
    if (!(error instanceof OptionsError || error instanceof UsageError)) throw error;
    await io.stderr(`prom-adapter ${command}: ${error.message}\nRun prom-adapter ${command} --help for usage.\n`);
    return EXIT_USAGE;
  }
  if (args.options.showHelp) {
    await io.stdout(helpText(command));
    return EXIT_OK;
  }
  const fail = async (code: number, message: string) => {
    await io.stderr(`prom-adapter ${command}: ${message}\n`);
    if (args.output === "json") await io.stdout(`${JSON.stringify({ error: message, exitCode: code }, null, 2)}\n`);
    return code;
  };
  try {
    if (command === "check") {
      if (args.positionals.length > 0)
        throw new UsageError(`check takes no arguments, got ${JSON.stringify(args.positionals[0])}`);
      const report = await runCheck({
        options: args.options,
        withPrometheus: args.given.has("prometheus-url"),
        cluster: !args.options.standalone && (args.given.has("kubeconfig") || Boolean(io.env.KUBERNETES_SERVICE_HOST)),
        env: io.env,
        logger: createLogger({ verbosity: args.options.verbosity, format: args.options.logFormat, write: io.stderr }),
      });
      await io.stdout(args.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatCheckText(report));
      return report.exitCode;
    }
    if (args.positionals.length !== 1)
      throw new UsageError(`explain takes one API path, e.g.\n  ${PATH_EXAMPLES.join("\n  ")}`);
    const report = await runExplain({ options: args.options, path: args.positionals[0] as string, env: io.env });
    await io.stdout(args.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatExplainText(report));
    return report.exitCode;
  } catch (error) {
    if (error instanceof UsageError) return fail(EXIT_USAGE, error.message);
    if (error instanceof UnreachableError) return fail(EXIT_UNREACHABLE, error.message);
    throw error;
  }
}

const COMMON_FLAGS = `Flags: the server's (see prom-adapter --help), of which these matter:
  --config=FILE                 rules file (default: the embedded rules/default.yaml)
  --prometheus-url=URL          Prometheus or Thanos; with the --prometheus-* credential flags
  --metrics-max-age=DUR         how far back discovery lists series (default: --metrics-relist-interval, 1m)
  --standalone                  no Kubernetes API: built-in REST mapper table, objects from Prometheus labels
  --kubeconfig=FILE             Kubernetes API for resources (REST mapper) and object LISTs
  --output=text|json            readable tables (default) or one JSON document on stdout (alias -o)

Exit codes: 0 ok; 1 problems found (invalid rules; an empty, 404 or error answer); 2 usage error;
3 Prometheus or the Kubernetes API unreachable.
`;

function helpText(command: Subcommand): string {
  if (command === "check") {
    return `Usage: prom-adapter check --config FILE [--prometheus-url URL] [--standalone | --kubeconfig FILE] [--output json]

Validates a rules file with the server's loader and compiler: every error with file:line:column, rule and field,
with hints. With --prometheus-url it also runs discovery once and prints, per rule, the series matched and the
metrics produced (resource and scope), skipped series and why, and collisions between rules (later rules win).
Resources are resolved with --kubeconfig (or in a cluster) from API discovery, otherwise from the built-in table.

${COMMON_FLAGS}`;
  }
  return `Usage: prom-adapter explain [--config FILE] --prometheus-url URL [--standalone | --kubeconfig FILE] [--output json] PATH

Answers one request the way the server would (rules, one discovery run, the real providers) and prints every step:
the rule and series, the objects (LISTed with --kubeconfig; standalone: from Prometheus labels), the rendered PromQL,
the raw samples, how samples matched objects, and the final response. An empty answer or a 404 names the step that
lost the data. Without --standalone the Kubernetes API is used (--kubeconfig, in-cluster, or ~/.kube/config).

PATH examples (quote them in the shell):
  ${PATH_EXAMPLES.join("\n  ")}

${COMMON_FLAGS}`;
}
