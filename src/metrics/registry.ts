/**
 * Counters and histograms for GET /metrics. Each thread counts in its own registry
 * (a Bun worker has its own copy of this module); a scrape asks the writer thread for
 * its snapshot, adds it to the request thread's (`merge`) and renders the sum. A
 * snapshot is plain data, so it crosses postMessage as is.
 */

export type Labels = Record<string, string>;

export interface CounterDef {
  kind: "counter";
  help: string;
  /** Has labels: no series until one is counted or declared (an unlabelled counter shows 0). */
  labelled?: boolean;
  /** Label sets known in advance: each is a series at 0 from the first scrape. */
  series?: readonly Labels[];
}
export interface HistogramDef {
  kind: "histogram";
  help: string;
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
}
export type MetricDef = CounterDef | HistogramDef;

/** Series by their label set (a stable key), per metric. */
export interface Snapshot {
  counters: Record<string, Record<string, { labels: Labels; value: number }>>;
  histograms: Record<string, Record<string, { labels: Labels; counts: number[]; sum: number; count: number }>>;
}

export const emptySnapshot = (): Snapshot => ({ counters: {}, histograms: {} });

type HistogramSeries = Snapshot["histograms"][string][string];

/** Cumulative buckets, as the exposition format wants them. */
function count(s: HistogramSeries, buckets: readonly number[], value: number) {
  for (let i = 0; i < buckets.length; i++) if (value <= buckets[i]!) s.counts[i]!++;
  s.sum += value;
  s.count++;
}

const keyOf = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");

export class Registry<Name extends string = string> {
  #data = emptySnapshot();

  constructor(readonly defs: Readonly<Record<Name, MetricDef>>) {
    for (const [name, def] of Object.entries<MetricDef>(defs)) if (def.kind === "counter") def.series?.forEach((labels) => this.declare(name as Name, labels));
  }

  /**
   * A series at 0 until it is counted: `rate()` and `increase()` need a sample before the
   * first event, or an alert on the first failure never fires. For label sets known only
   * at start (a hook's outcomes, a job's results).
   */
  declare(name: Name, labels: Labels) {
    (this.#data.counters[name] ??= {})[keyOf(labels)] ??= { labels, value: 0 };
  }

  inc(name: Name, labels: Labels = {}, by = 1) {
    if (by === 0) return;
    const series = (this.#data.counters[name] ??= {});
    const key = keyOf(labels);
    const s = (series[key] ??= { labels, value: 0 });
    s.value += by;
  }

  /**
   * `inc` for one series, its key worked out once: for the request path, which counts
   * every webhook. The series appears at its first count, as with `inc`.
   */
  counter(name: Name, labels: Labels = {}): (by?: number) => void {
    const key = keyOf(labels);
    let s: { value: number } | null = null;
    return (by = 1) => {
      if (by === 0) return;
      s ??= (this.#data.counters[name] ??= {})[key] ??= { labels, value: 0 };
      s.value += by;
    };
  }

  /** `observe` for one series, its key worked out once (as `counter`). */
  histogram(name: Name, labels: Labels = {}): (value: number) => void {
    const buckets = this.#buckets(name);
    const key = keyOf(labels);
    let s: HistogramSeries | null = null;
    return (value) => {
      s ??= (this.#data.histograms[name] ??= {})[key] ??= { labels, counts: buckets.map(() => 0), sum: 0, count: 0 };
      count(s, buckets, value);
    };
  }

  observe(name: Name, value: number, labels: Labels = {}) {
    const buckets = this.#buckets(name);
    const series = (this.#data.histograms[name] ??= {});
    count((series[keyOf(labels)] ??= { labels, counts: buckets.map(() => 0), sum: 0, count: 0 }), buckets, value);
  }

  #buckets(name: Name): readonly number[] {
    const def: MetricDef = this.defs[name];
    if (def?.kind !== "histogram") throw new Error(`${name} is not a histogram`);
    return def.buckets;
  }

  snapshot(): Snapshot {
    return structuredClone(this.#data);
  }
}

/** The sum of several threads' snapshots. */
export function merge(...snapshots: Snapshot[]): Snapshot {
  const out = emptySnapshot();
  for (const snap of snapshots) {
    for (const [name, series] of Object.entries(snap.counters)) {
      const into = (out.counters[name] ??= {});
      for (const [key, s] of Object.entries(series)) (into[key] ??= { labels: s.labels, value: 0 }).value += s.value;
    }
    for (const [name, series] of Object.entries(snap.histograms)) {
      const into = (out.histograms[name] ??= {});
      for (const [key, s] of Object.entries(series)) {
        const t = (into[key] ??= { labels: s.labels, counts: s.counts.map(() => 0), sum: 0, count: 0 });
        s.counts.forEach((c, i) => (t.counts[i]! += c));
        t.sum += s.sum;
        t.count += s.count;
      }
    }
  }
  return out;
}
