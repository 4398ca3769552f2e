/**
 * One `docker run -d` container for the image test: its log followed as it is written (`docker logs --follow`),
 * `docker inspect`, `docker exec`, `docker stop` and removal. Uses the `docker` CLI on PATH.
 */
import { spawn } from "bun";

/** `docker inspect` fields the image test reads. */
export interface ContainerInspection {
  readonly Args: string[];
  readonly State: { Pid: number; ExitCode: number; OOMKilled: boolean; Running: boolean };
  readonly HostConfig: {
    ReadonlyRootfs: boolean;
    CapDrop: string[] | null;
    Memory: number;
    NetworkMode: string;
    SecurityOpt: string[] | null;
  };
}

export interface RunningContainer {
  readonly id: string;
  /** Resolves when the log (stdout and stderr) contains `text`, optionally after the first `after`; rejects if the
   * container exits first. */
  waitForLog(text: string, options?: { after?: string }): Promise<void>;
  /** The log so far. */
  logs(): string;
  inspect(): Promise<ContainerInspection>;
  exec(command: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Bytes of memory in use (cgroup), or null when docker cannot tell. */
  memoryUsage(): Promise<number | null>;
  /** `docker stop --time <graceSeconds>`: SIGTERM, then SIGKILL after the grace period. */
  stop(graceSeconds: number): Promise<void>;
  /** Stops (if running) and removes the container. Idempotent. */
  remove(): Promise<void>;
}

/** Runs `docker` and returns what it printed; throws with its stderr when it fails. */
export async function docker(args: readonly string[]): Promise<string> {
  const { stdout, stderr, exitCode } = await run(["docker", ...args]);
  if (exitCode !== 0) throw new Error(`docker ${args.join(" ")} failed (exit ${exitCode}): ${stderr.trim()}`);
  return stdout;
}

/** `docker run -d <options> <image> <args>`, then follows its log. */
/** Runs a command to its end with stdin closed. */
async function run(command: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const child = spawn([...command], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** What {@link startContainer} runs: `docker run` options, the image and its arguments. */
export interface ContainerSpec {
  readonly image: string;
  readonly args: readonly string[];
  readonly options: readonly string[];
}

export async function startContainer({ image, args, options }: ContainerSpec): Promise<RunningContainer> {
  const id = (await docker(["run", "--detach", ...options, image, ...args])).trim();
  let log = "";
  let ended = false;
  const waiters: { check: () => boolean; resolve: () => void; reject: (error: Error) => void }[] = [];
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (waiter.check()) waiter.resolve();
      else if (ended) waiter.reject(new Error(`the container's log ended without the awaited line:\n${log}`));
      else continue;
      waiters.splice(waiters.indexOf(waiter), 1);
    }
  };
  const follower = spawn(["docker", "logs", "--follow", id], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      log += decoder.decode(chunk, { stream: true });
      settle();
    }
  };
  void Promise.all([drain(follower.stdout), drain(follower.stderr)]).then(() => {
    ended = true;
    settle();
  });
  const contains = (text: string, after?: string) => {
    const start = after === undefined ? 0 : log.indexOf(after);
    return start >= 0 && log.indexOf(text, start + (after?.length ?? 0)) >= 0;
  };
  let removed = false;
  return {
    id,
    waitForLog(text, { after } = {}) {
      return new Promise<void>((resolve, reject) => {
        waiters.push({ check: () => contains(text, after), resolve, reject });
        settle();
      });
    },
    logs: () => log,
    async inspect() {
      return (JSON.parse(await docker(["inspect", id])) as ContainerInspection[])[0]!;
    },
    exec: (command) => run(["docker", "exec", id, ...command]),
    async memoryUsage() {
      const stats = JSON.parse(await docker(["stats", "--no-stream", "--format", "{{json .}}", id])) as {
        MemUsage?: string;
      };
      const match = /^([\d.]+)(B|KiB|MiB|GiB)/.exec(stats.MemUsage ?? "");
      if (!match) return null;
      const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[match[2] as "B" | "KiB" | "MiB" | "GiB"];
      return Number(match[1]) * unit;
    },
    async stop(graceSeconds) {
      await docker(["stop", "--time", String(graceSeconds), id]);
      await follower.exited;
    },
    async remove() {
      if (removed) return;
      removed = true;
      await docker(["rm", "--force", id]).catch(() => "");
      follower.kill();
    },
  };
}
