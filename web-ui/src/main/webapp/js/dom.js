// Small DOM helpers: elements are built with h() (text is always set as text, never parsed as HTML), SVG with s().

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'readOnly') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An HTML element: h('a', {href: '#/vms'}, 'VMs'). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  return append(el, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  return append(el, children);
}

/** Replaces the children of {@code el}. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function mib(n) {
  if (n === null || n === undefined) return '–';
  return n >= 10240 ? `${(n / 1024).toFixed(1)} GiB` : `${n} MiB`;
}

export function time(millis) {
  if (!millis) return '–';
  const d = new Date(millis);
  return d.toLocaleString(undefined, { hour12: false });
}

export function ms(n) {
  return n >= 10000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

/** A state badge: the state's name, coloured by what it means. */
export function badge(state) {
  const bad = ['failed', 'fenced', 'error', 'offline', 'isolated'];
  const warn = ['paused', 'suspect', 'rejoining', 'starting', 'stopping', 'recovery', 'pending-capacity', 'migrating', 'frozen',
    'deleting', 'in-progress', 'cancelled'];
  const good = ['connected', 'running', 'completed'];
  const tone = bad.includes(state) ? 'bad' : warn.includes(state) ? 'warn' : good.includes(state) ? 'good' : 'neutral';
  return h('span', { class: `badge ${tone}`, dataset: { state } }, state || 'unknown');
}

/** A message line for a form: an error (the API's detail) or a success note. */
export function note(el, kind, text) {
  fill(el, text || '');
  el.className = `note ${text ? kind : ''}`;
  el.hidden = !text;
}

/**
 * Runs {@code fn} at most once per {@code wait} ms, at the end of a burst. {@code cancel()} drops a pending run (a
 * view's dispose calls it, so a view left, e.g. by signing out, makes no more requests).
 */
export function debounce(fn, wait) {
  let t = null;
  const run = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), wait);
  };
  run.cancel = () => clearTimeout(t);
  return run;
}
