/** Runs prom-adapter's real entry point (`bun run src/main.ts`) as a child process, as a user would. */
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const MAIN = join(REPO_ROOT, "src", "main.ts");

export interface AdapterProcess {
  readonly port: number;
  readonly pid: number;
  /** Sends a signal (e.g. SIGHUP) to the process. */
  signal(name: NodeJS.Signals): void;
  /** Resolves when stderr contains `text` (already, or later); no polling. */
  waitForLog(text: string): Promise<void>;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number>;
}

/** Runs main.ts to completion (for --help, --version, bad flags, bad rules). */
export async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, "run", MAIN, ...args], {
    cwd: REPO_ROOT,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/**
 * Starts main.ts and resolves once it logs the address it serves on (bound port read from that line). NB: the child
 * binds port 0 itself and reports the port it got, so the server on that port is the child, with no race.
 */
export async function spawnAdapter(args: string[]): Promise<AdapterProcess> {
  const child = Bun.spawn([process.execPath, "run", MAIN, ...args], {
    cwd: REPO_ROOT,
    stdout: "ignore",
    stderr: "pipe",
    stdin: "ignore",
  });
  let stderr = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const append = (chunk: string) => {
    stderr += chunk;
    for (const waiter of waiters.filter((w) => stderr.includes(w.text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const reader = child.stderr.getReader();
  const decoder = new TextDecoder();
  const port = await new Promise<number>((resolve, reject) => {
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          reject(new Error(`prom-adapter exited before serving:\n${stderr}`));
          return;
        }
        append(decoder.decode(value, { stream: true }));
        const match = /serving address=https:\/\/[^:\s]+:(\d+)/.exec(stderr);
        if (match) {
          resolve(Number(match[1]));
          break;
        }
      }
      // Keep draining so the child never blocks on a full pipe.
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        append(decoder.decode(value, { stream: true }));
      }
    })();
  });
  return {
    port,
    pid: child.pid,
    signal: (name) => child.kill(name),
    waitForLog: (text) =>
      stderr.includes(text) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ text, resolve })),
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      return child.exited;
    },
  };
}
