/** A process's open file descriptors, from /proc: what each points at and its open flags (O_DSYNC, the access mode). */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Descriptor {
  /** The file's path; "(deleted)" at its end once the file is unlinked. */
  target: string;
  flags: number;
}

export function descriptors(pid: number | "self" = "self"): Descriptor[] {
  const out: Descriptor[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const flags = parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"))![1]!, 8);
      out.push({ target, flags });
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
