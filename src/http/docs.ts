/**
 * The API reference UI at /docs and its OpenAPI document at /docs/json (@elysiajs/swagger
 * with Scalar). The UI's script is embedded in the binary and served from here, so the
 * page works on a machine with no internet, and its web fonts are off (they would come
 * from Scalar's CDN). The document is public; the data is not: "try it" needs the admin
 * token, entered in the page's authentication box.
 */
import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
import scalarBundle from "../../node_modules/.cache/wa-webhookd/scalar-standalone.asset" with { type: "file" };
import { VERSION } from "../version";
import { SECURITY_SCHEME } from "./openapi";

export const DOCS_PATH = "/docs";
const BUNDLE_PATH = `${DOCS_PATH}/assets/scalar.js`;

// Options of the embedded Scalar version; the plugin's types describe an older one.
// Everything that would reach out to Scalar's services is off: web fonts, the AI agent,
// MCP, the developer tools, and the request proxy ("" = send "try it" requests directly).
const SCALAR_CONFIG = {
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: "never",
  agent: { disabled: true },
  mcp: { disabled: true },
  proxyUrl: "",
  authentication: { preferredSecurityScheme: SECURITY_SCHEME },
};

export function docsRoutes() {
  return new Elysia({ name: "docs" })
    // The UI is never framed by another page, nor its files sniffed as another type. (No
    // content security policy: Scalar's page inlines its configuration script.)
    .onAfterHandle({ as: "local" }, ({ set }) => {
      set.headers["x-content-type-options"] = "nosniff";
      set.headers["x-frame-options"] = "DENY";
    })
    .get(
      BUNDLE_PATH,
      () =>
        new Response(Bun.file(scalarBundle), {
          headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": `public, max-age=86400` },
        }),
      { detail: { hide: true } },
    )
    .use(
      swagger({
        path: DOCS_PATH,
        specPath: `${DOCS_PATH}/json`,
        scalarCDN: BUNDLE_PATH,
        scalarConfig: SCALAR_CONFIG,
        documentation: {
          info: {
            title: "wa-webhookd",
            version: VERSION,
            description:
              "Receives WhatsApp Business (Cloud API) webhooks, stores them before answering, and forwards one event per item to your hooks. " +
              "The admin API (/v1) shows what arrived, what happened to each message and what is stuck. " +
              "It holds personal data: every /v1 call needs `Authorization: Bearer <admin.token>` (enter it under Authentication).",
          },
          tags: [
            { name: "events", description: "Events as stored and forwarded" },
            { name: "queues", description: "Deliveries to hooks and webhooks the worker could not process" },
            { name: "contacts", description: "People: profile, opt-out, messages, erasure" },
            { name: "reports", description: "Templates, statistics and alerts" },
            { name: "fallback", description: "Outbound messages tracked for SMS fallback" },
            { name: "jobs", description: "The sweeper's scheduled jobs" },
            { name: "webhook", description: "What Meta calls" },
            { name: "health", description: "Liveness and readiness" },
          ],
          components: {
            securitySchemes: { [SECURITY_SCHEME]: { type: "http", scheme: "bearer", description: "admin.token from the config" } },
          },
        },
      }),
    );
}
