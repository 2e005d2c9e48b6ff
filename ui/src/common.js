// Pieces every view uses: an error shown in place, a guarded async view body, a health badge.
import { ApiError } from "./api.js";
import { h } from "./dom.js";

export function errorBox(error) {
  const text = error instanceof Error ? error.message : String(error);
  return h("div", { class: "error", role: "alert" }, text);
}

/** Run an async view body, showing its failure in place instead of a blank page. */
export async function guarded(target, body) {
  try {
    await body();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // back at the login page already
    console.error(error);
    target.append(errorBox(error));
  }
}

export function badge(health) {
  return h("span", { class: `badge health-${health}` }, health);
}

/** The legend of the graph's colours and shapes (derived from the same tables the graph uses). */
export function legend(colours, labels) {
  return h("div", { class: "legend", "aria-label": "Legend" },
    h("span", { class: "legend-title" }, "Health: "),
    Object.keys(colours).map((k) => h("span", { class: `badge health-${k}` }, k)),
    h("span", { class: "legend-title" }, " Links: "), h("span", { class: "badge link-down" }, "down (dashed red)"));
}
