/**
 * Run alone by test/unit/heap-trim.test.ts, in a fresh process: what a heap does after
 * 400,000 objects of garbage with trimHeap() running. In the test runner's own process
 * the heap's size depends on every file run before (a heap already large enough takes
 * the garbage without growing), which is not what the test is about.
 */
import { heapSize } from "bun:jsc";
import { trimHeap } from "../../src/util/heap-trim";

Bun.gc(true);
const before = heapSize();
trimHeap();
let garbage: unknown[] | null = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `garbage ${i}` }));
const made = garbage.length;
garbage = null;
const grown = heapSize() - before;
await Bun.sleep(1_300);
console.log(JSON.stringify({ made, grown, after: heapSize() - before }));
process.exit(0);
