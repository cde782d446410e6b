/**
 * A Prometheus text scrape parsed by parse-prometheus-text-format (a port of the
 * Python client's parser), with lookups for the tests.
 */
// @ts-expect-error the package ships no types; its output shape is described below
import parsePrometheusTextFormat from "parse-prometheus-text-format";

type Sample = { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string };
export type Family = { name: string; help: string; type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED"; metrics: Sample[] };

export function parseScrape(text: string) {
  const families = parsePrometheusTextFormat(text) as Family[];
  const family = (name: string) => {
    const f = families.find((x) => x.name === name);
    if (!f) throw new Error(`no metric ${name} in the scrape`);
    return f;
  };
  const matches = (s: Sample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v);
  return {
    families,
    family,
    /** The sum of the samples whose labels include these. */
    value: (name: string, labels: Record<string, string> = {}) => family(name).metrics.filter((s) => matches(s, labels)).reduce((n, s) => n + Number(s.value), 0),
    /** The value of the one series with exactly these labels; throws when there is none. */
    series: (name: string, labels: Record<string, string>) => {
      const found = family(name).metrics.filter((s) => matches(s, labels) && Object.keys(s.labels ?? {}).length === Object.keys(labels).length);
      if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} series in the scrape`);
      return Number(found[0]!.value);
    },
    /** A histogram's observation count (all label sets). */
    count: (name: string) => family(name).metrics.reduce((n, s) => n + Number(s.count), 0),
  };
}
