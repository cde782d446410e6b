/** Liveness and readiness for systemd, Caddy health checks and load balancers. No auth, no data. */
import { Elysia } from "elysia";
import type { HealthStore } from "../store/types";
import { z } from "zod";
import { operation } from "./openapi";
import { json } from "./respond";
import { sharedWhileRunning } from "../util/in-flight";

const Health = z.strictObject({ status: z.enum(["ok", "ready", "not_ready"]), reason: z.string().optional().describe("Why it is not ready") });

export function healthRoutes(health: HealthStore) {
  // Unauthenticated, and each probe is a durable write: concurrent requests share one.
  const probe = sharedWhileRunning(() => health.probe());
  return new Elysia({ name: "health" })
    .get("/healthz", () => json(200, { status: "ok" }), { detail: operation({ tag: "health", public: true, summary: "Liveness: the process answers", ok: Health }) })
    .get("/readyz", async () => {
      const result = await probe();
      return result.ready ? json(200, { status: "ready" }) : json(503, { status: "not_ready", reason: withoutDirectories(result.reason) });
    }, { detail: operation({ tag: "health", public: true, summary: "Readiness: storage takes writes (503 with the reason when not)", ok: Health, errors: [[503, "Not ready: storage cannot take writes; the reason says why", Health]] }) });
}

/**
 * A public answer names files, never where they are (`/var/lib/wa-webhookd/wa.db` →
 * `wa.db`): the path is the operator's business, and their logs have it.
 */
const withoutDirectories = (reason: string) => reason.replace(/(?:\/[^\s/'":,()]+)+\/([^\s/'":,()]+)/g, "$1");
