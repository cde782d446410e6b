/**
 * What the daemon writes holds people's numbers and messages: its data directory, the
 * database, its WAL and the inbox log are owner-only whatever the umask it was started
 * with (a shell's is usually 022; systemd's unit sets 077 too).
 */
import { beforeAll, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, startDaemon, tempDir, writeConfig } from "../support/daemon";
import { signedPost, textMessage } from "../support/webhooks";

beforeAll(requireBinary);

test("started with umask 022, the daemon still creates its data directory 0700 and its files 0600", async () => {
  const dir = tempDir();
  const previous = process.umask(0o022); // inherited by the daemon
  try {
    const daemon = await startDaemon(writeConfig(dir));
    expect((await signedPost(`${daemon.url}/webhook`, textMessage("wamid.MODES"))).status).toBe(200);
    const data = join(dir, "data");
    const segments = join(data, "wa.db.segments");
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    const files = [...readdirSync(data).filter((f) => !f.endsWith(".segments")).map((f) => join(data, f)), ...readdirSync(segments).map((f) => join(segments, f))];
    expect(files.length).toBeGreaterThanOrEqual(3); // the database, its WAL and a segment at least
    expect({ data: mode(data), segments: mode(segments), files: files.map((f) => [f.slice(dir.length), mode(f)]) }).toEqual({
      data: "700",
      segments: "700",
      files: files.map((f) => [f.slice(dir.length), "600"]),
    });
    expect(await daemon.stop()).toBe(0);
  } finally {
    process.umask(previous);
  }
});
