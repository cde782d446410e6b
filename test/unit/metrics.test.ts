import { expect, test } from "bun:test";
import { CONTENT_TYPE, render } from "../../src/metrics/exposition";
import { merge, Registry, type MetricDef } from "../../src/metrics/registry";
import { parseScrape } from "../support/prometheus";

const DEFS = {
  requests_total: { kind: "counter", labelled: true, help: "Requests by outcome" },
  idle_total: { kind: "counter", help: "Never counted" },
  latency_seconds: { kind: "histogram", help: "Latency", buckets: [0.01, 0.1, 1] },
} as const satisfies Record<string, MetricDef>;

test("counters and histograms from two threads add up, and the text parses as Prometheus' format", () => {
  const main = new Registry(DEFS);
  const writer = new Registry(DEFS);
  main.inc("requests_total", { outcome: "stored" }, 3);
  writer.inc("requests_total", { outcome: "stored" });
  writer.inc("requests_total", { outcome: 'we"ird\\label\nvalue' });
  main.observe("latency_seconds", 0.005);
  writer.observe("latency_seconds", 0.5);
  writer.observe("latency_seconds", 7);

  const text = render(DEFS, merge(main.snapshot(), structuredClone(writer.snapshot())), [{ name: "depth", help: "Queue\ndepth", samples: [{ labels: { state: "pending" }, value: 4 }] }]);
  const scrape = parseScrape(text);
  expect(scrape.value("requests_total", { outcome: "stored" })).toBe(4);
  expect(scrape.value("requests_total", { outcome: 'we"ird\\label\nvalue' })).toBe(1);
  expect(scrape.value("idle_total")).toBe(0);
  const latency = scrape.family("latency_seconds");
  expect(latency.type).toBe("HISTOGRAM");
  expect(latency.metrics[0]).toMatchObject({ buckets: { "0.01": "1", "0.1": "1", "1": "2" }, count: "3" });
  expect(Number(latency.metrics[0]!.sum)).toBeCloseTo(7.505);
  expect(scrape.value("depth", { state: "pending" })).toBe(4);
  expect(scrape.family("depth").help).toBe("Queue\ndepth");
  expect(CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
});

test("before anything is counted: an unlabelled counter is 0, a histogram a series of zeros, a labelled counter no series", () => {
  const scrape = parseScrape(render(DEFS, new Registry(DEFS).snapshot(), []));
  expect(scrape.value("idle_total")).toBe(0);
  expect(scrape.family("latency_seconds").metrics[0]).toMatchObject({ buckets: { "0.01": "0", "0.1": "0", "1": "0" }, count: "0", sum: "0" });
  expect(scrape.family("requests_total").metrics).toEqual([]);
});

test("series declared in the catalogue or at start are 0 before their first count, and count on from there", () => {
  const defs = { ...DEFS, outcomes_total: { kind: "counter", labelled: true, help: "By outcome", series: [{ outcome: "ok" }, { outcome: "failed" }] } } as const satisfies Record<string, MetricDef>;
  const main = new Registry(defs);
  const writer = new Registry(defs);
  writer.declare("requests_total", { hook: "app", outcome: "dead" });
  writer.inc("outcomes_total", { outcome: "ok" }, 2);
  const scrape = parseScrape(render(defs, merge(main.snapshot(), writer.snapshot()), []));
  expect(scrape.value("outcomes_total", { outcome: "ok" })).toBe(2);
  expect(scrape.value("outcomes_total", { outcome: "failed" })).toBe(0);
  expect(scrape.value("requests_total", { hook: "app", outcome: "dead" })).toBe(0);
  expect(scrape.family("requests_total").metrics).toHaveLength(1);
  writer.declare("outcomes_total", { outcome: "ok" }); // declaring again keeps the count
  expect(writer.snapshot().counters.outcomes_total!["outcome=ok"]!.value).toBe(2);
});

test("a snapshot is a copy: counting on does not change one already taken", () => {
  const r = new Registry(DEFS);
  r.inc("requests_total", { outcome: "a" });
  const before = r.snapshot();
  r.inc("requests_total", { outcome: "a" });
  expect(before.counters.requests_total).toEqual({ "outcome=a": { labels: { outcome: "a" }, value: 1 } });
});

test("observing a counter is a programming error, said at once", () => {
  expect(() => new Registry(DEFS).observe("requests_total", 1)).toThrow("requests_total is not a histogram");
});

test("a bound counter or histogram (the request path's) counts into the same series as inc and observe; a series appears at its first count", () => {
  const r = new Registry(DEFS);
  const stored = r.counter("requests_total", { outcome: "stored" });
  const latency = r.histogram("latency_seconds");
  expect(r.snapshot().counters.requests_total).toBeUndefined();
  stored();
  stored(2);
  r.inc("requests_total", { outcome: "stored" });
  latency(0.05);
  r.observe("latency_seconds", 2);
  latency(0.005);
  const scrape = parseScrape(render(DEFS, r.snapshot(), []));
  expect(scrape.value("requests_total", { outcome: "stored" })).toBe(4);
  expect(scrape.family("latency_seconds").metrics[0]).toMatchObject({ buckets: { "0.01": "1", "0.1": "2", "1": "2" }, count: "3" });
  expect(() => r.histogram("requests_total")).toThrow("not a histogram");
});
