/** Starts a server process and waits for the JSON log line that says where it listens. */
import type { Subprocess } from "bun";

export interface Running {
  proc: Subprocess<"ignore", "pipe", "inherit">;
  port: number;
  stop(): Promise<number>;
}

export async function spawnListening(cmd: string[], cwd: string, timeoutMs = 15_000): Promise<Running> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const match = /"listen":"[^"]*:(\d+)"/.exec(text);
    if (match) {
      clearTimeout(timer);
      // Keep draining stdout so the server never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return {
        proc,
        port: Number(match[1]),
        stop: async () => {
          proc.kill("SIGTERM");
          return proc.exited;
        },
      };
    }
  }
  clearTimeout(timer);
  proc.kill("SIGKILL");
  throw new Error(`${cmd.join(" ")} did not start listening; output:\n${text}`);
}
