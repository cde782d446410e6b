/**
 * GET /metrics in Prometheus text format: this thread's counters plus the writer
 * thread's (a scrape asks it for its snapshot and the database gauges), summed.
 * No personal data; with `[admin] metrics_token` it needs that bearer token.
 */
import { Elysia } from "elysia";
import { METRICS, metrics } from "../metrics/catalogue";
import { CONTENT_TYPE, render, type Gauge } from "../metrics/exposition";
import { merge, type Snapshot } from "../metrics/registry";
import { StorageError } from "../store/errors";
import { refuseUnlessBearer } from "./bearer";
import type { ClientOf } from "./client-address";
import type { Logger } from "../util/log";
import { problem } from "./respond";

export interface MetricsDeps {
  /** Bearer token the scrape must send; null: open (bind or proxy it to where Prometheus is). */
  token: string | null;
  writer: () => Promise<{ snapshot: Snapshot; gauges: Gauge[] }>;
  local: () => Gauge[];
  log: Logger;
}

export function metricsRoutes(deps: MetricsDeps, client: ClientOf) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async ({ request, server }) => {
      const refused = deps.token === null ? null : refuseUnlessBearer(request, deps.token, "admin.metrics_token", deps.log, client(request, server));
      if (refused) return refused;
      try {
        const writer = await deps.writer();
        const text = render(METRICS, merge(metrics.snapshot(), writer.snapshot), [...writer.gauges, ...deps.local()]);
        return new Response(text, { headers: { "content-type": CONTENT_TYPE } });
      } catch (err) {
        if (err instanceof StorageError) return problem(503, "storage_unavailable", err.message);
        throw err;
      }
    },
    { detail: { hide: true } },
  );
}
