/** Bar charts as inline SVG: a few dozen lines beat a chart library for stacked bars per day. */
const NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569"];

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** One stacked bar per column (a day), one colour per series, with a legend. */
export function stackedBars(title: string, columns: { label: string; values: Record<string, number> }[]): HTMLElement {
  const series = [...new Set(columns.flatMap((c) => Object.keys(c.values)))].sort();
  const max = Math.max(1, ...columns.map((c) => Object.values(c.values).reduce((a, b) => a + b, 0)));
  const width = 420;
  const height = 160;
  const bar = width / Math.max(1, columns.length);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height + 18}`, role: "img", "aria-label": title, class: "chart" });
  columns.forEach((c, i) => {
    let y = height;
    series.forEach((s, k) => {
      const v = c.values[s] ?? 0;
      if (v === 0) return;
      const hgt = (v / max) * (height - 4);
      y -= hgt;
      const rect = svg("rect", { x: i * bar + 4, y, width: bar - 8, height: hgt, fill: PALETTE[k % PALETTE.length]! });
      rect.append(svg("title", {}, `${c.label} · ${s}: ${v}`));
      root.append(rect);
    });
    root.append(svg("text", { x: i * bar + bar / 2, y: height + 14, "text-anchor": "middle", class: "axis" }, c.label));
  });
  return figure(title, root, series);
}

/** Horizontal bars, largest first. */
export function hbars(title: string, items: { label: string; value: number }[]): HTMLElement {
  const sorted = [...items].sort((a, b) => b.value - a.value).slice(0, 12);
  const max = Math.max(1, ...sorted.map((i) => i.value));
  const row = 20;
  const root = svg("svg", { viewBox: `0 0 420 ${Math.max(1, sorted.length) * row}`, role: "img", "aria-label": title, class: "chart" });
  sorted.forEach((item, i) => {
    root.append(svg("text", { x: 0, y: i * row + 14, class: "axis" }, item.label));
    const w = (item.value / max) * 220;
    root.append(svg("rect", { x: 170, y: i * row + 3, width: Math.max(1, w), height: row - 6, fill: PALETTE[i % PALETTE.length]! }));
    root.append(svg("text", { x: 176 + w, y: i * row + 14, class: "axis" }, String(item.value)));
  });
  return figure(title, root, [], sorted.length === 0);
}

function figure(title: string, chart: SVGElement, series: string[], empty = false): HTMLElement {
  const fig = document.createElement("figure");
  const cap = document.createElement("figcaption");
  cap.textContent = title;
  fig.append(cap);
  if (empty) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "Nothing in this period.";
    fig.append(p);
    return fig;
  }
  fig.append(chart);
  if (series.length > 0) {
    const legend = document.createElement("ul");
    legend.className = "legend";
    series.forEach((s, k) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = PALETTE[k % PALETTE.length]!;
      li.append(sw, s);
      legend.append(li);
    });
    fig.append(legend);
  }
  return fig;
}
