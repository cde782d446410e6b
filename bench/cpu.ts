/**
 * CPU time of a process, thread by thread, from /proc/<pid>/task/<tid>/stat (user +
 * system, in USER_HZ ticks). On a shared two-core machine req/s swings ±20% from run to
 * run; the CPU a server spends per request moves far less, so the benches report it too.
 */
import { readdirSync, readFileSync } from "node:fs";

export const TICK_US = 1_000_000 / 100; // USER_HZ

export type ThreadTicks = Map<string, { name: string; ticks: number }>;

/** CPU ticks per thread, keyed by thread id; the name is the kernel's (comm). */
export function threadTicks(pid: number): ThreadTicks {
  const out: ThreadTicks = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
      out.set(tid, { name, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** µs of CPU per request between two readings: all threads, and the request (main) thread alone. */
export function cpuPerRequest(pid: number, before: ThreadTicks, after: ThreadTicks, requests: number) {
  const spent = (tid: string) => ((after.get(tid)!.ticks - (before.get(tid)?.ticks ?? 0)) * TICK_US) / requests;
  const total = [...after.keys()].reduce((n, tid) => n + spent(tid), 0);
  return { total, request: after.has(String(pid)) ? spent(String(pid)) : 0 };
}
