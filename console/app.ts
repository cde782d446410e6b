/**
 * The operator console: hash routes over the /v1 API, no framework. The admin token is
 * asked once per browser session; a refused token asks again.
 */
import { session, Unauthorized } from "./api";
import { h, problem } from "./dom";
import { alerts } from "./pages/alerts";
import { contact } from "./pages/contact";
import { deliveries } from "./pages/deliveries";
import { event } from "./pages/event";
import { live } from "./pages/live";
import { message } from "./pages/message";
import { overview } from "./pages/overview";
import { search } from "./pages/search";

type Page = (main: HTMLElement, arg: string, params: URLSearchParams) => Promise<void> | (() => void);

const ROUTES: Record<string, Page> = {
  "": (main) => overview(main),
  live: (main, _arg, params) => live(main, params),
  search: (main, _arg, params) => search(main, params),
  message: (main, wamid) => message(main, wamid),
  contact: (main, waId, params) => contact(main, waId, params),
  event: (main, id) => event(main, id),
  deliveries: (main, _arg, params) => deliveries(main, params),
  alerts: (main, _arg, params) => alerts(main, params),
};

const main = document.getElementById("main")!;
const logout = document.getElementById("logout") as HTMLButtonElement;
let leave: (() => void) | null = null;

async function route() {
  leave?.();
  leave = null;
  if (!session.token()) return login();
  logout.hidden = false;
  const [path = "", rawQuery = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name = "", ...rest] = path.split("/");
  const page = ROUTES[name];
  for (const a of document.querySelectorAll<HTMLAnchorElement>("#nav a")) a.classList.toggle("active", a.getAttribute("href") === `#/${name}`);
  if (!page) return void main.replaceChildren(problem(`No page ${name}.`));
  try {
    const done = await page(main, decodeURIComponent(rest.join("/")), new URLSearchParams(rawQuery));
    if (typeof done === "function") leave = done;
  } catch (err) {
    if (err instanceof Unauthorized) return login(err.message);
    main.replaceChildren(problem(err));
  }
}

function login(why?: string) {
  logout.hidden = true;
  const token = h("input", { type: "password", name: "token", placeholder: "admin token", autocomplete: "current-password", "aria-label": "admin token", required: true });
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: (e: Event) => {
        e.preventDefault();
        session.set(token.value.trim());
        void route();
      },
    },
    h("h1", {}, "wa-webhookd console"),
    h("p", { class: "muted" }, "The admin token ([admin] token in the daemon's config). It is kept for this browser tab's session only."),
    why ? h("p", { class: "error", role: "alert" }, why) : "",
    token,
    h("button", { type: "submit" }, "Log in"),
  );
  main.replaceChildren(form);
  token.focus();
}

logout.addEventListener("click", () => {
  session.clear();
  void route();
});
window.addEventListener("hashchange", () => void route());
void route();
