// The dashboard's shell: sign-in, hash routing, the live event feed shared by the views, the header.
import * as api from './api.js';
import { h, fill } from './dom.js';
import { renderLogin } from './views/login.js';
import { renderOverview } from './views/overview.js';
import { renderVms } from './views/vms.js';
import { renderVm } from './views/vm.js';
import { renderPolicy } from './views/policy.js';
import { renderRules } from './views/rules.js';
import { renderEvents } from './views/events.js';
import { renderFailovers } from './views/failovers.js';

const ROUTES = [
  [/^#\/overview$/, renderOverview, 'overview'],
  [/^#\/vms$/, renderVms, 'vms'],
  [/^#\/vms\/([^/]+)$/, renderVm, 'vms'],
  [/^#\/policy$/, renderPolicy, 'policy'],
  [/^#\/rules$/, renderRules, 'rules'],
  [/^#\/events$/, renderEvents, 'events'],
  [/^#\/failovers$/, renderFailovers, 'failovers'],
];
const MAX_EVENTS = 500;

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const live = document.getElementById('live');
const whoEl = document.getElementById('who');
const logoutButton = document.getElementById('logout');

/** Events seen since sign-in, newest first, and who wants to hear of new ones. */
const feed = {
  events: [],
  ids: new Set(),
  state: 'offline',
  listeners: new Set(),
  subscribe(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); },
};

let stopStream = null;
let view = null;

function addEvent(e) {
  if (e._id && feed.ids.has(e._id)) return;
  if (e._id) feed.ids.add(e._id);
  feed.events.unshift(e);
  if (feed.events.length > MAX_EVENTS) {
    const dropped = feed.events.pop();
    feed.ids.delete(dropped._id);
  }
  feed.listeners.forEach((l) => l(e));
}

const LIVE_TEXT = { live: 'live', connecting: 'connecting…', offline: 'reconnecting…' };

function setLive(state) {
  feed.state = state;
  live.className = `live ${state}`;
  live.dataset.state = state;
  fill(live, h('span', { class: 'dot', 'aria-hidden': 'true' }), LIVE_TEXT[state]);
}

function startFeed() {
  if (stopStream) stopStream();
  feed.events = [];
  feed.ids.clear();
  // The newest events (at most 1000) arrive first, then new ones as they are recorded.
  stopStream = api.streamEvents({ since: 1, onEvent: addEvent, onState: setLive });
}

function stopFeed() {
  if (stopStream) stopStream();
  stopStream = null;
  setLive('offline');
  live.hidden = true;
}

function showUser() {
  const who = api.session.who;
  fill(whoEl, who ? [h('span', { class: 'who-name' }, who.name), ' ', h('span', { class: 'role', dataset: { role: who.role } }, who.role)] : '');
  document.body.dataset.role = who ? who.role : '';
}

function route() {
  if (view && view.dispose) view.dispose();
  view = null;
  if (!api.session.token) return;
  const hash = location.hash || '#/overview';
  for (const [pattern, render, section] of ROUTES) {
    const m = hash.match(pattern);
    if (!m) continue;
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    fill(main);
    view = render(main, { params: m.slice(1).map(decodeURIComponent), feed }) || null;
    main.focus({ preventScroll: true });
    return;
  }
  location.hash = '#/overview';
}

function signedIn() {
  nav.hidden = false;
  live.hidden = false;
  whoEl.hidden = false;
  logoutButton.hidden = false;
  showUser();
  startFeed();
  if (!location.hash || location.hash === '#/login') location.hash = '#/overview';
  else route();
}

function signedOut(message) {
  if (view && view.dispose) view.dispose();
  view = null;
  stopFeed();
  api.session.clear();
  nav.hidden = true;
  whoEl.hidden = true;
  logoutButton.hidden = true;
  document.body.dataset.role = '';
  renderLogin(main, { message, onSignedIn: signedIn });
}

api.onUnauthorized(() => signedOut('Your session ended or the token is no longer valid; sign in again.'));
logoutButton.addEventListener('click', async () => {
  // The stream first: once the session is revoked, its reconnect would be a 401 ("your session ended").
  stopFeed();
  logoutButton.disabled = true;
  try {
    await api.logout();
  } finally {
    logoutButton.disabled = false;
  }
  signedOut('Signed out.');
});
window.addEventListener('hashchange', () => { if (api.session.token) route(); });

async function boot() {
  setLive('offline');
  live.hidden = true;
  const token = api.session.token;
  if (!token) {
    signedOut();
    return;
  }
  try {
    await api.useToken(token);
    signedIn();
  } catch (e) {
    signedOut(e.status === 401 ? 'Your session ended; sign in again.' : e.message);
  }
}

boot();
