/** The daemon config the pipeline and memory benches run: SQLite in `dir`, one hook at concurrency 64 to a local sink. */
import { join } from "node:path";
import { writeFileSync } from "node:fs";

export const SECRET = "bench-secret";
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

/** Writes `dir`/config.toml and returns its path; `extra` is appended as TOML. */
export function writeHookedConfig(dir: string, sinkPort: number, extra = ""): string {
  const path = join(dir, "config.toml");
  writeFileSync(
    path,
    `[server]\nlisten = "127.0.0.1:0"\n[storage]\npath = "${dir}/bench.db"\n[whatsapp]\nverify_token = "b"\napp_secrets = ["${SECRET}"]\n` +
      `[admin]\ntoken = "bench-admin-token-0000"\n` +
      `[[hooks]]\nname = "sink"\nurl = "http://127.0.0.1:${sinkPort}/hook"\nsecret = "${WHSEC}"\nconcurrency = 64\n` +
      extra,
    { mode: 0o600 },
  );
  return path;
}
