// Hash routing: every view has a URL to share (#/env/NAME/focal/ID, #/env/NAME/impact?target=H ...).

/** The current route: {parts: ["env", "demo", "focal", "id"], params: URLSearchParams}. */
export function current() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search] = splitOnce(hash, "?");
  const parts = path.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  return { parts, params: new URLSearchParams(search || "") };
}

function splitOnce(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

/** The hash of a route: link("env", name, "focal", id) or link(..., {target: [a, b]}). */
export function link(...parts) {
  const params = parts.length && typeof parts[parts.length - 1] === "object" ? parts.pop() : null;
  let hash = "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/");
  if (params) {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined && one !== null && one !== "") search.append(k, one);
    }
    if ([...search].length) hash += "?" + search.toString();
  }
  return hash;
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}
