/**
 * `bun test/support/slow-readers.ts PORT COUNT PAUSE_MS STALLED`: COUNT stream clients
 * (sse-reader.ts) that read one chunk every PAUSE_MS and reconnect with Last-Event-ID,
 * the first STALLED of them never reading past the first chunk; in a process of their
 * own so that their work never delays the test's own measurements. On SIGTERM it
 * prints what they got, one JSON line, and exits.
 */
import { sseReader } from "./sse-reader";

export interface ReadersReport {
  connections: number;
  bytes: number;
  dropped: number;
  /** CPU seconds this process used (its share of the machine, beside the daemon's). */
  cpuSeconds: number;
  /** Each reader's event ids, over all its connections. */
  ids: string[][];
}

if (import.meta.main) {
  const [port, count, pauseMs, stalled] = process.argv.slice(2).map(Number) as [number, number, number, number];
  const readers = Array.from({ length: count }, (_, i) => sseReader(port, { pauseMs: i < stalled ? Infinity : pauseMs, reconnect: true }));
  process.on("SIGTERM", () => {
    readers.forEach((r) => r.stop());
    const report: ReadersReport = {
      connections: readers.reduce((a, r) => a + r.connections, 0),
      bytes: readers.reduce((a, r) => a + r.bytes, 0),
      dropped: readers.reduce((a, r) => a + r.dropped.length, 0),
      cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
      ids: readers.map((r) => r.ids),
    };
    process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(0));
  });
  console.log(JSON.stringify({ started: count }));
}
