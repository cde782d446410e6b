/** Prometheus text exposition format 0.0.4: the registry's sums and the scrape's gauges. */
import type { Labels, MetricDef, Snapshot } from "./registry";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A value read at scrape time (queue depths, file sizes): one sample per label set. */
export interface Gauge {
  name: string;
  help: string;
  samples: Array<{ labels?: Labels; value: number }>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN");

export function render(defs: Readonly<Record<string, MetricDef>>, snap: Snapshot, gauges: readonly Gauge[]): string {
  const lines: string[] = [];
  const head = (name: string, help: string, type: string) => lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  for (const [name, def] of Object.entries(defs)) {
    head(name, def.help, def.kind);
    if (def.kind === "counter") {
      const series = Object.values(snap.counters[name] ?? {});
      // A counter nobody has touched yet is still a series, at 0, when it has no labels.
      if (series.length === 0 && !def.labelled) lines.push(`${name} 0`);
      for (const s of series) lines.push(`${name}${labelText(s.labels)} ${num(s.value)}`);
    } else {
      const series = Object.values(snap.histograms[name] ?? {});
      // Like an unlabelled counter: nothing observed yet is still a series, of zeros (rate() and
      // histogram_quantile() have something to read from the first scrape on).
      for (const s of series.length > 0 ? series : [{ labels: {}, counts: def.buckets.map(() => 0), sum: 0, count: 0 }]) {
        def.buckets.forEach((le, i) => lines.push(`${name}_bucket${labelText(s.labels, ["le", num(le)])} ${s.counts[i]}`));
        lines.push(`${name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`, `${name}_sum${labelText(s.labels)} ${num(s.sum)}`, `${name}_count${labelText(s.labels)} ${s.count}`);
      }
    }
  }
  for (const g of gauges) {
    head(g.name, g.help, "gauge");
    for (const s of g.samples) lines.push(`${g.name}${labelText(s.labels ?? {})} ${num(s.value)}`);
  }
  return lines.join("\n") + "\n";
}
