/**
 * The pinned reference build every benchmark runs beside this one, in the same run: a
 * slow slide shows as a ratio against a fixed point, not only against yesterday's build
 * (issue 19: steps each within the noise once added up to a quarter of ingestion lost).
 *
 * REFERENCE is the commit the pipeline issue started from. The bench checks it out into
 * bench/out/ (a detached git worktree) and builds it with its own Makefile and lockfile,
 * once; later runs reuse the binary. Move the pin only on purpose, with a line in
 * bench/RESULTS.md saying why.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const REFERENCE = "d85c95e";
/** What the tables call the reference: the pinned commit, or the build BENCH_REFERENCE_BINARY names instead. */
export const referenceLabel = process.env.BENCH_REFERENCE_BINARY ? `BENCH_REFERENCE_BINARY` : `reference ${REFERENCE}`;
export const root = resolve(import.meta.dir, "..");
export const currentBinary = process.env.BENCH_CURRENT_BINARY ?? join(root, "dist/wa-webhookd");

/** The reference binary, built on first use (~30 s: npm ci and a compile in its own checkout). */
export function referenceBinary(): string {
  if (process.env.BENCH_REFERENCE_BINARY) return process.env.BENCH_REFERENCE_BINARY;
  const dir = join(root, "bench/out", `ref-${REFERENCE}`);
  const binary = join(dir, "dist/wa-webhookd");
  if (existsSync(binary)) return binary;
  console.error(`building the reference build ${REFERENCE} in ${dir}…`);
  if (!existsSync(dir)) {
    run(["git", "worktree", "prune"], root); // a checkout removed by `make clean` is still registered
    run(["git", "worktree", "add", "--detach", dir, REFERENCE], root);
  }
  run(["make", "build"], dir);
  return binary;
}

function run(cmd: string[], cwd: string) {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed in ${cwd} (exit ${r.exitCode})`);
}

/** The machine, for the results' heading. */
export async function machine(): Promise<string> {
  const { cpus } = await import("node:os");
  const kernel = (await Bun.file("/proc/sys/kernel/osrelease").text().catch(() => "")).trim();
  return `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Linux ${kernel}, Bun ${Bun.version}`;
}

/** Resident memory of a process, in MB (VmRSS). */
export async function rssMB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
