// The REST API as the UI calls it: the tab's token (sessionStorage), JSON, and errors turned into
// sentences a person can act on (401: log in again, 403: no role, 429: wait).

const PREFIX = "/api/v1";
const KEY = "calipso.session";

export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details || {};
  }
}

export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
  },
  set(value) { sessionStorage.setItem(KEY, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(KEY); },
};

/** Listeners called when the API says the token is no longer good (401). */
const expiredListeners = [];
export function onExpired(listener) { expiredListeners.push(listener); }

/** A query string from an object; arrays repeat the key (?target=a&target=b). */
export function qs(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) if (v !== "") search.append(key, v);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export function explain(status, body, headers) {
  const message = body && body.error && body.error.message;
  if (status === 401) return message && /wrong user name/.test(message) ? "Wrong user name or password." :
    "Your session has ended or the token is not valid: log in again.";
  if (status === 403) return `You are not allowed to do this${message ? `: ${message}` : "."}`;
  if (status === 429) {
    const retry = (body && body.error && body.error.details && body.error.details.retry_after) ||
      (headers && headers.get("Retry-After"));
    return `Too many attempts: try again${retry ? ` in ${retry} seconds` : " later"}.`;
  }
  if (status === 503) return message || "A server Calipso needs is unavailable; try again shortly.";
  return message || `The server answered ${status}.`;
}

async function call(method, path, { params, json, token } = {}) {
  const headers = { Accept: "application/json" };
  const current = token || (session.get() || {}).token;
  if (current) headers.Authorization = `Bearer ${current}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(PREFIX + path + qs(params), {
      method, headers, body: json === undefined ? undefined : JSON.stringify(json),
    });
  } catch (exc) {
    throw new ApiError(0, `The Calipso server cannot be reached (${exc.message}).`);
  }
  if (response.status === 204) return null;
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    const error = new ApiError(response.status, explain(response.status, body, response.headers),
      body && body.error && body.error.details);
    if (response.status === 401 && path !== "/auth/tokens") expiredListeners.forEach((f) => f(error));
    throw error;
  }
  return body;
}

export const api = {
  get: (path, params) => call("GET", path, { params }),
  post: (path, json) => call("POST", path, { json }),
  del: (path) => call("DELETE", path),
  env: (env) => `/environments/${encodeURIComponent(env)}`,
  /** An object id in a path: ids may hold "/", which the API's <path:...> routes accept. */
  id: (id) => String(id).split("/").map(encodeURIComponent).join("/"),
};
