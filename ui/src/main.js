// Calipso's web UI: login, environments, tree, search, focal-point graph, analysis and dashboards.
// Every view is a URL (hash routing); every datum comes from the public REST API under /api/v1.
import { api, onExpired, session } from "./api.js";
import { badge, errorBox, guarded } from "./common.js";
import { h, fill, table, when, show } from "./dom.js";
import { current, go, link } from "./router.js";
import { focalView } from "./focal.js";
import { analysisView, ANALYSES } from "./analysis.js";
import { dashboardView } from "./dashboard.js";

const app = document.getElementById("app");
let flash = null; // a message to show on the next page (e.g. why the user is back at login)

onExpired((error) => {
  session.clear();
  flash = error.message;
  go("#/login");
});

// -- login ---------------------------------------------------------------------------------------

function loginView() {
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { id: "login-status", role: "status", "aria-live": "polite" });
  if (flash) { status.append(h("div", { class: "error", role: "alert" }, flash)); flash = null; }
  const form = h("form", { class: "login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Log in to Calipso"),
    h("p", {}, "Use your directory (LDAP) account or a local Calipso user."),
    h("label", { for: "username" }, "User name"), user,
    h("label", { for: "password" }, "Password"), password,
    h("button", { type: "submit", class: "primary" }, "Log in"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(status, "Logging in…");
    try {
      const answer = await api.post("/auth/tokens", { username: user.value, password: password.value });
      session.set({ token: answer.token, user: answer.user, admin: answer.admin, grants: answer.grants, expires_at: answer.expires_at });
      const back = sessionStorage.getItem("calipso.after-login");
      sessionStorage.removeItem("calipso.after-login");
      go(back && back !== "#/login" ? back : "#/");
    } catch (error) {
      fill(status, errorBox(error));
      password.value = "";
      password.focus();
    }
  });
  fill(app, h("main", { id: "main", class: "login-page" }, form));
  user.focus();
}

async function logout() {
  try { await api.del("/auth/tokens/current"); } catch { /* the token may be gone already */ }
  session.clear();
  flash = "You are logged out.";
  go("#/login");
}

// -- the shell: header with environment, navigation, search; main area ---------------------------------

function shell(env, active) {
  const who = session.get() || {};
  const nav = env ? [
    ["overview", "Overview", link("env", env)],
    ["tree", "Tree", link("env", env, "tree")],
    ["dashboard", "Dashboards", link("env", env, "dashboard")],
    ...ANALYSES.map((a) => [a.key, a.label, link("env", env, a.key)]),
  ] : [];
  const main = h("main", { id: "main", tabindex: "-1" });
  const header = h("header", { class: "top" },
    h("a", { class: "brand", href: "#/" }, "Calipso"),
    env ? h("span", { class: "env-name" }, "Environment ", h("strong", {}, env)) : null,
    env ? searchBox(env) : null,
    h("span", { class: "who" }, `${who.user || ""}${who.admin ? " (admin)" : ""}`),
    h("button", { type: "button", onclick: logout }, "Log out"));
  const navigation = env ? h("nav", { "aria-label": "Views" }, h("ul", {}, nav.map(([key, label, href]) =>
    h("li", {}, h("a", { href, "aria-current": key === active ? "page" : null }, label))))) : null;
  fill(app, h("a", { class: "skip", href: "#main", onclick: (e) => { e.preventDefault(); main.focus(); } }, "Skip to content"),
    header, navigation, main);
  return main;
}

// -- search: one box, by name, id, MAC or IP; a listbox navigable with the arrow keys ------------------

function searchBox(env) {
  const input = h("input", { id: "search", type: "search", placeholder: "Name, id, MAC or IP", role: "combobox",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "search-results", autocomplete: "off" });
  const list = h("ul", { id: "search-results", role: "listbox", "aria-label": "Search results", hidden: true });
  const status = h("span", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  let hits = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const choose = (hit) => { close(); input.value = ""; go(link("env", env, "focal", hit.id)); };
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; };
  const mark = (i) => {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    if (i >= 0 && list.children[i]) {
      input.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({ block: "nearest" });
    }
  };
  const render = (answer, text) => {
    hits = answer.items;
    list.dataset.q = text; // which text these hits answer (the box may hold newer text already)
    fill(list, hits.map((hit, i) => h("li", { id: `search-hit-${i}`, role: "option", "aria-selected": "false",
      onmousedown: (e) => { e.preventDefault(); choose(hit); } },
    h("span", { class: "hit-name" }, hit.name || hit.id), " ",
    h("span", { class: "hit-type" }, hit.type), hit.host ? h("span", { class: "hit-host" }, ` on ${hit.host}`) : null)));
    if (!hits.length) list.append(h("li", { role: "option", "aria-disabled": "true", "aria-selected": "false" }, "No object matches"));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    fill(status, `${answer.total} objects match`);
    mark(hits.length ? 0 : -1);
  };
  const ask = async () => {
    const text = input.value.trim();
    if (!text) { close(); return; }
    const mine = ++asked;
    try {
      const answer = await api.get(`${api.env(env)}/search`, { q: text, page_size: 15 });
      if (mine === asked) render(answer, text);
    } catch (error) {
      if (mine === asked) { fill(list, h("li", { role: "option", "aria-disabled": "true", "aria-selected": "false" }, error.message)); list.hidden = false; }
    }
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 200); });
  input.addEventListener("keydown", async (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); if (list.hidden) await ask(); else mark(Math.min(hits.length - 1, active + 1)); }
    else if (event.key === "ArrowUp") { event.preventDefault(); mark(Math.max(0, active - 1)); }
    else if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      if (list.hidden || input.getAttribute("data-asked") !== input.value) { await ask(); input.setAttribute("data-asked", input.value); }
      if (hits[active >= 0 ? active : 0]) choose(hits[active >= 0 ? active : 0]);
    } else if (event.key === "Escape") close();
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return h("div", { class: "search", role: "search" },
    h("label", { for: "search", class: "visually-hidden" }, "Search objects"), input, list, status);
}

// -- environments ------------------------------------------------------------------------------------

async function environmentsView() {
  const main = shell(null, null);
  main.append(h("h1", {}, "Environments"));
  await guarded(main, async () => {
    const answer = await api.get("/environments", { page_size: 100 });
    if (!answer.items.length) {
      main.append(h("p", {}, "You hold no role in any environment. Ask an administrator for one."));
      return;
    }
    const cards = h("div", { class: "cards" });
    main.append(cards);
    for (const env of answer.items) {
      const card = h("section", { class: "card", "aria-labelledby": `env-${env.name}` },
        h("h2", { id: `env-${env.name}` }, h("a", { href: link("env", env.name) }, env.name)),
        h("p", {}, `Your role: ${env.role}`, env.configured ? "" : " · not configured (inventory only)"));
      cards.append(card);
      api.get(`${api.env(env.name)}/overview`).then((o) => card.append(summary(o, env.name)))
        .catch((error) => card.append(errorBox(error)));
    }
  });
}

function summary(o, env) {
  const scan = o.last_scan;
  return h("dl", { class: "facts" },
    h("dt", {}, "Last scan"), h("dd", {}, scan ? `${scan.status}, ${when(scan.finished_at || scan.created_at)}` : "never"),
    h("dt", {}, "Objects"), h("dd", {}, o.objects), h("dt", {}, "Links"), h("dd", {}, `${o.links} (${o.links_down} down)`),
    h("dt", {}, "Failing objects"), h("dd", { class: o.failing_total ? "bad" : "" },
      o.failing_total ? h("a", { href: link("env", env) }, o.failing_total) : "0"),
    h("dt", {}, "Projection lag"), projectionLag(env));
}

/** The graph's lag behind MongoDB, filled in when it comes (counting the feed can be slow). */
function projectionLag(env) {
  const dd = h("dd", {}, "checking…");
  api.get(`${api.env(env)}/overview/projection`)
    .then((p) => fill(dd, p.lag ? `${p.lag} changes not yet in the graph` : "none"))
    .catch((error) => fill(dd, error.message));
  return dd;
}

// -- one environment: overview with scans and critical objects --------------------------------------

async function overviewView(env) {
  const main = shell(env, "overview");
  main.append(h("h1", {}, `Environment ${env}`));
  await guarded(main, async () => {
    // The invariants run over the whole graph: asked at once, shown when they come, never blocking the rest.
    const invariants = api.get(`${api.env(env)}/analysis/invariants`);
    invariants.catch(() => {});
    const o = await api.get(`${api.env(env)}/overview`);
    const scanArea = h("section", { "aria-labelledby": "scan-title", class: "panel" }, h("h2", { id: "scan-title" }, "Scans"));
    main.append(h("div", { class: "grid2" }, h("section", { class: "panel", "aria-labelledby": "sum-title" },
      h("h2", { id: "sum-title" }, "At a glance"), summary(o, env)), scanArea));
    scanControls(env, o, scanArea);
    main.append(h("section", { class: "panel", "aria-labelledby": "crit-title" },
      h("h2", { id: "crit-title" }, `Critical objects (${o.failing_total})`),
      o.failing.length ? table(o.failing, [["name", "Object", (v, r) => h("a", { href: link("env", env, "focal", r.id) }, v || r.id)],
        ["type", "Type"], ["host", "Host"], ["health", "Health", (v) => badge(v)], ["reason", "Why"]],
      { caption: o.failing_total > o.failing.length ? `The first ${o.failing.length}` : null }) : h("p", {}, "No failing object.")));
    const status = h("p", { role: "status" }, "Checking the invariants…");
    const invSection = h("section", { class: "panel", "aria-labelledby": "inv-title" }, h("h2", { id: "inv-title" }, "Broken invariants"), status);
    main.append(invSection);
    try {
      const inv = await invariants;
      fill(status, inv.rows.length ? `${inv.rows.length} broken` : "No invariant is broken.");
      if (inv.rows.length) invSection.append(table(inv.rows.slice(0, 50)));
    } catch (error) {
      fill(status, errorBox(error));
    }
  });
}

/** A scan's counts (per object type, and links) as one line a person reads. */
function countText(counts) {
  const objects = Object.entries(counts).filter(([k]) => k !== "links").reduce((sum, [, n]) => sum + (Number(n) || 0), 0);
  return `${objects} objects` + (counts.links !== undefined ? `, ${counts.links} links` : "");
}

function scanControls(env, overview, area) {
  const list = h("div", {});
  const progress = h("div", { role: "status", "aria-live": "polite", class: "progress" });
  area.append(progress, list);
  const refresh = async () => {
    const scans = await api.get(`${api.env(env)}/scans`, { page_size: 5 });
    fill(list, scans.items.length ? table(scans.items, [["status", "Status"], ["created_at", "Requested", when],
      ["finished_at", "Finished", when], ["requested_by", "By"], ["counts", "Found", (c) => (c ? countText(c) : "")]],
    { caption: "Latest scans" }) : h("p", {}, "Never scanned."));
    return scans.items[0];
  };
  refresh().catch((e) => list.append(errorBox(e)));
  if (overview.role !== "edit") return; // a view user sees scans but starts none
  const button = h("button", { type: "button", class: "primary", id: "start-scan" }, "Start a scan");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const scan = await api.post(`${api.env(env)}/scans`, {});
      fill(progress, `Scan ${scan.id}: ${scan.status}`);
      for (;;) {
        await new Promise((r) => setTimeout(r, 1500));
        const now = await api.get(`${api.env(env)}/scans/${encodeURIComponent(scan.id)}`);
        const counts = now.counts && Object.keys(now.counts).length ? ` · ${countText(now.counts)}` : "";
        fill(progress, `Scan ${scan.id}: ${now.status}${counts}`);
        if (!["pending", "running"].includes(now.status)) break;
      }
      await refresh();
    } catch (error) {
      fill(progress, errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  area.insertBefore(button, progress);
}

// -- the tree: lazy, one level per /tree call, keyboard navigable (WAI-ARIA tree pattern) -------------

async function treeView(env) {
  const main = shell(env, "tree");
  main.append(h("h1", { id: "tree-title" }, "Inventory tree"));
  const tree = h("ul", { role: "tree", "aria-labelledby": "tree-title", class: "tree" });
  main.append(h("p", { class: "hint" }, "Arrow keys move, Right opens, Left closes, Enter opens the object's graph."), tree);
  await guarded(main, async () => {
    await loadLevel(env, null, tree, 1);
    const first = tree.querySelector("[role=treeitem]");
    if (first) first.tabIndex = 0;
  });
  tree.addEventListener("keydown", (event) => treeKeys(event, tree, env));
}

async function loadLevel(env, parent, group, level, page = 1) {
  const answer = await api.get(`${api.env(env)}/tree`, { parent: parent || undefined, page, page_size: 100 });
  for (const child of answer.items) group.append(treeItem(env, child, level));
  if (answer.total > page * 100) {
    const more = h("li", { role: "treeitem", tabindex: "-1", "aria-level": level, class: "tree-more" }, `${answer.total - page * 100} more…`);
    more.addEventListener("click", async () => { more.remove(); await loadLevel(env, parent, group, level, page + 1); });
    more.dataset.more = "1";
    group.append(more);
  }
}

function treeItem(env, child, level) {
  const label = h("span", { class: "tree-label" }, child.name || child.id, " ", h("span", { class: "hit-type" }, child.type),
    child.children ? h("span", { class: "count" }, ` (${child.children})`) : null);
  const item = h("li", { role: "treeitem", tabindex: "-1", "aria-level": level, "aria-expanded": child.children ? "false" : null,
    "data-id": child.id }, label);
  label.addEventListener("click", () => (child.children ? toggle(env, item) : go(link("env", env, "focal", child.id))));
  label.addEventListener("dblclick", () => go(link("env", env, "focal", child.id)));
  return item;
}

async function toggle(env, item, open) {
  const expanded = item.getAttribute("aria-expanded") === "true";
  if (open === undefined) open = !expanded;
  if (open === expanded || item.getAttribute("aria-expanded") === null) return;
  item.setAttribute("aria-expanded", open ? "true" : "false");
  let group = item.querySelector(":scope > [role=group]");
  if (open && !group) {
    group = h("ul", { role: "group" });
    item.append(group);
    await loadLevel(env, item.dataset.id, group, Number(item.getAttribute("aria-level")) + 1);
  }
  if (group) group.hidden = !open;
}

function treeKeys(event, tree, env) {
  const items = [...tree.querySelectorAll("[role=treeitem]")].filter((el) => !el.closest("[role=group][hidden]"));
  const item = event.target.closest("[role=treeitem]");
  if (!item) return;
  const at = items.indexOf(item);
  const move = (el) => { if (!el) return; items.forEach((i) => (i.tabIndex = -1)); el.tabIndex = 0; el.focus(); };
  switch (event.key) {
    case "ArrowDown": event.preventDefault(); move(items[at + 1]); break;
    case "ArrowUp": event.preventDefault(); move(items[at - 1]); break;
    case "Home": event.preventDefault(); move(items[0]); break;
    case "End": event.preventDefault(); move(items[items.length - 1]); break;
    case "ArrowRight":
      event.preventDefault();
      if (item.getAttribute("aria-expanded") === "false") toggle(env, item, true);
      else if (item.getAttribute("aria-expanded") === "true") move(item.querySelector("[role=group] [role=treeitem]"));
      break;
    case "ArrowLeft":
      event.preventDefault();
      if (item.getAttribute("aria-expanded") === "true") toggle(env, item, false);
      else move(item.parentElement.closest("[role=treeitem]"));
      break;
    case "Enter":
      event.preventDefault();
      if (item.dataset.more) item.click();
      else if (item.dataset.id) go(link("env", env, "focal", item.dataset.id));
      break;
    default:
  }
}

// -- routing ----------------------------------------------------------------------------------------

async function route() {
  const { parts, params } = current();
  if (parts[0] === "login") { loginView(); return; }
  if (!session.get()) {
    if (location.hash && location.hash !== "#/") sessionStorage.setItem("calipso.after-login", location.hash);
    go("#/login");
    return;
  }
  if (parts[0] !== "env" || !parts[1]) { await environmentsView(); return; }
  const env = parts[1];
  const view = parts[2] || "overview";
  document.title = `Calipso · ${env} · ${view}`;
  if (view === "overview") await overviewView(env);
  else if (view === "tree") await treeView(env);
  else if (view === "dashboard") await dashboardView(shell(env, "dashboard"), env);
  else if (view === "focal" && parts[3]) await focalView(shell(env, null), env, parts.slice(3).join("/"), params);
  else if (ANALYSES.some((a) => a.key === view)) await analysisView(shell(env, view), env, view, params);
  else { const main = shell(env, null); main.append(h("h1", {}, "Not found"), h("p", {}, `No view named ${view}.`)); }
}

window.addEventListener("hashchange", route);
route();
