/** Liveness and readiness for systemd, Caddy health checks and load balancers. No auth, no data. */
import { Elysia } from "elysia";
import type { HealthStore } from "../store/types";
import { json } from "./respond";

export function healthRoutes(health: HealthStore) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => json(200, { status: "ok" }))
    .get("/readyz", async () => {
      const result = await health.probe();
      return result.ready ? json(200, { status: "ready" }) : json(503, { status: "not_ready", reason: result.reason });
    });
}
