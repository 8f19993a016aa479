// The controller's REST API as the dashboard uses it: the session's bearer token, JSON calls that turn
// problem+json answers into ApiError, and the live event stream read with fetch() (EventSource cannot send an
// Authorization header, and tokens never go into URLs).

const BASE = '/api/v1';
const TOKEN_KEY = 'vigil.token';
const WHO_KEY = 'vigil.who';

/** An RFC 9457 problem (or a network failure, status 0) from the API. */
export class ApiError extends Error {
  constructor(status, title, detail, problem) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.problem = problem || {};
  }
}

const unauthorizedListeners = new Set();

/** Called whenever the API answers 401: the dashboard goes back to the login. */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get who() {
    try { return JSON.parse(sessionStorage.getItem(WHO_KEY)); } catch { return null; }
  },
  set(token, who) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(WHO_KEY, JSON.stringify(who));
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WHO_KEY);
  },
};

const RANK = { viewer: 1, operator: 2, admin: 3 };

/** Whether the signed-in user's role includes {@code role}. */
export function can(role) {
  const who = session.who;
  return !!who && (RANK[who.role] || 0) >= RANK[role];
}

/**
 * One API call. {@code body} is sent as JSON (PATCH as a JSON Merge Patch). Resolves to the parsed body (null for
 * 204); rejects with ApiError.
 */
export async function call(method, path, body, { token = session.token, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  }
  let res;
  try {
    res = await fetch(BASE + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, 'Network error', `the controller did not answer (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    const err = new ApiError(res.status, p.title || res.statusText, p.detail || String(text || res.statusText), p);
    // Only a 401 to the current session's token ends the session: an answer to a request of an earlier session (a
    // view's reload racing a sign-out) must not sign out the next one, or re-render the login form being typed in.
    if (res.status === 401 && !quiet401 && token && token === session.token) unauthorizedListeners.forEach((l) => l(err));
    throw err;
  }
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const put = (path, body) => call('PUT', path, body);
export const patch = (path, body) => call('PATCH', path, body);
export const del = (path) => call('DELETE', path);

/** Signs in with a user name and password; resolves to whoami. */
export async function login(user, password) {
  const r = await call('POST', '/login', { user, password }, { token: null, quiet401: true });
  const who = { name: r.name, role: r.role, kind: r.kind || 'session', expiresAtMillis: r.expiresAtMillis };
  session.set(r.token, who);
  return who;
}

/** Signs in with a pasted API token, checked with GET /whoami. */
export async function useToken(token) {
  const who = await call('GET', '/whoami', undefined, { token, quiet401: true });
  session.set(token, who);
  return who;
}

/** Ends a login session on the controller (API tokens stay valid) and forgets the token here. */
export async function logout() {
  const who = session.who;
  try {
    if (who && who.kind === 'session') await call('POST', '/logout', undefined, { quiet401: true });
  } catch { /* the token is forgotten here anyway */ }
  session.clear();
}

/**
 * The live event stream (GET /events/stream, Server-Sent Events) read with fetch and a ReadableStream. Calls
 * {@code onEvent(event)} per event and {@code onState('live'|'connecting'|'offline')}; reconnects with back-off
 * (1 s doubling to 30 s) and resumes after the last id it saw. The first connection asks for the events since
 * {@code since} (epoch ms; the server sends at most the newest 1000). Event sequences are larger than JavaScript's
 * safe integers, so the id is kept as the string the server sent (event._id), never parsed. Returns a stop function.
 */
export function streamEvents({ since, onEvent, onState }) {
  let lastId = null;
  let stopped = false;
  let controller = null;
  let delay = 1000;
  let timer = null;

  async function connect() {
    if (stopped) return;
    onState('connecting');
    controller = new AbortController();
    const token = session.token;
    if (!token) return;
    const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token}` };
    if (lastId) headers['Last-Event-ID'] = String(lastId);
    try {
      const query = lastId ? '' : `?since=${since}`;
      const res = await fetch(`${BASE}/events/stream${query}`, {
        headers, signal: controller.signal, cache: 'no-store', credentials: 'omit',
      });
      if (res.status === 401) {
        if (!stopped && token === session.token) {
          unauthorizedListeners.forEach((l) => l(new ApiError(401, 'Unauthorized', 'the session ended')));
        }
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      onState('live');
      delay = 1000;
      await read(res.body);
      throw new Error('the stream ended');
    } catch (e) {
      if (stopped) return;
      onState('offline');
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    }
  }

  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        dispatch(block);
      }
    }
  }

  function dispatch(block) {
    let id = null;
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (id) lastId = id;
    if (type !== 'cluster-event' || !data.length) return;
    let event;
    try { event = JSON.parse(data.join('\n')); } catch (e) { console.warn('bad event', e); return; }
    event._id = id;
    onEvent(event);
  }

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (controller) controller.abort();
  };
}
