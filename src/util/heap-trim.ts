/**
 * JavaScriptCore sizes a thread's heap from the machine's RAM: on a 24 GB box a thread
 * busy with webhooks let garbage pile up to 35–40 MB between its own collections, and the
 * daemon's RSS (what an operator, a container limit and the OOM killer see) with it.
 * Checked every second (heapSize() costs under a microsecond), a heap grown by more than
 * GROWTH_BYTES since the last collection is collected at once: a few ms a second while
 * busy, nothing while idle (bench/RESULTS.md, memory). A concurrent collection
 * (Bun.gc(false)) gave nothing back, measured.
 */
import { heapSize } from "bun:jsc";

const CHECK_MS = 1_000;
/** 16 MB on the request thread measured the same p99 and 7 MB more RSS under load. */
const GROWTH_BYTES = 8 * 1024 * 1024;

/** Starts the check on the calling thread, for the thread's life (the timer keeps no thread alive). */
export function trimHeap(): void {
  let base = heapSize();
  const timer = setInterval(() => {
    if (heapSize() - base < GROWTH_BYTES) return;
    Bun.gc(true);
    base = heapSize();
  }, CHECK_MS);
  timer.unref();
}
