/**
 * The operator console at /console (console/, built by `make build` and embedded here):
 * a page over the /v1 API. The page and its two files hold no data and need no token;
 * every /v1 call it makes does. Nothing leaves the machine: the content security policy
 * lets the page load and fetch only from this origin.
 */
import { Elysia } from "elysia";
import files from "../../node_modules/.cache/wa-webhookd/console.json" with { type: "json" };

export const CONSOLE_PATH = "/console";

const POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const ASSETS: Record<string, { body: string; type: string }> = {
  "index.js": { body: files["index.js"], type: "text/javascript; charset=utf-8" },
  "index.css": { body: files["index.css"], type: "text/css; charset=utf-8" },
};

const page = () =>
  new Response(files["index.html"], {
    headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": POLICY, "cache-control": "no-store", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff" },
  });

export function consoleRoutes() {
  return new Elysia({ name: "console" })
    .get(CONSOLE_PATH, page, { detail: { hide: true } })
    .get(`${CONSOLE_PATH}/`, page, { detail: { hide: true } })
    .get(
      `${CONSOLE_PATH}/assets/:file`,
      ({ params }) => {
        const asset = ASSETS[params.file];
        if (!asset) return new Response("not found", { status: 404 });
        // The names do not change with the content: revalidate rather than cache for long.
        return new Response(asset.body, { headers: { "content-type": asset.type, "cache-control": "no-cache", "x-content-type-options": "nosniff" } });
      },
      { detail: { hide: true } },
    );
}
