// The operations API, as the console calls it: every request carries the
// token from sessionStorage; a 401 sends the user back to sign in.

const key = "vigil.token";
export const prefix = "/api/v1";

export function token() { return sessionStorage.getItem(key) || ""; }
export function setToken(t) { t ? sessionStorage.setItem(key, t) : sessionStorage.removeItem(key); }

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// session holds who the token belongs to (GET /whoami).
export const session = { whoami: null };
export const isOperator = () => Boolean(session.whoami && session.whoami.role === "operator");

// Set by app.js: called on 401 with the server's message.
export const hooks = { unauthorized: (msg) => {} };

// Every call gives up after timeoutMs (the server answers profiles after
// their seconds, so those pass a longer one).
export async function call(method, path, body, { timeoutMs = 15000, text = false } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(prefix + path, {
      method, headers, signal: ctl.signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    const why = ctl.signal.aborted ? `no answer within ${timeoutMs / 1000}s` : e.message;
    throw new APIError(0, "unavailable", `${method} ${prefix}${path}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  if (!resp.ok) {
    let code = "", message = `${method} ${prefix}${path}: HTTP ${resp.status}`;
    try {
      const b = await resp.json();
      if (b && b.error) {
        code = b.error.code || "";
        message = typeof b.error === "string" ? b.error : b.error.message || message;
      }
    } catch { /* not JSON */ }
    if (resp.status === 401) hooks.unauthorized(message);
    throw new APIError(resp.status, code, message);
  }
  if (resp.status === 204) return null;
  return text ? resp.text() : resp.json();
}

export const get = (path, opts) => call("GET", path, undefined, opts);
export const post = (path, body, opts) => call("POST", path, body, opts);
