// The VMs table: sortable by every column, filtered by text and state.
import * as api from '../api.js';
import { h, fill, badge, mib, note, debounce } from '../dom.js';

const COLUMNS = [
  { key: 'name', label: 'Name' },
  { key: 'state', label: 'State' },
  { key: 'host', label: 'Host' },
  { key: 'priority', label: 'Priority' },
  { key: 'cacheMode', label: 'Cache mode' },
  { key: 'haEnabled', label: 'HA' },
  { key: 'requestedState', label: 'Requested' },
  { key: 'memoryMiB', label: 'Memory' },
];
const PRIORITY_ORDER = ['highest', 'high', 'medium', 'low', 'lowest', 'disabled'];

// Kept across visits, so going back to the table keeps the sort and filters.
const prefs = { sort: 'name', descending: false, text: '', state: '' };

function compare(a, b, key) {
  let x = a[key];
  let y = b[key];
  if (key === 'priority') {
    x = PRIORITY_ORDER.indexOf(x);
    y = PRIORITY_ORDER.indexOf(y);
  }
  if (x === y) return a.name.localeCompare(b.name);
  if (x === null || x === undefined) return 1;
  if (y === null || y === undefined) return -1;
  return typeof x === 'number' || typeof x === 'boolean' ? Number(x) - Number(y) : String(x).localeCompare(String(y));
}

export function renderVms(main, { feed }) {
  let vms = [];
  const message = h('p', { class: 'note', role: 'alert', hidden: true });
  const text = h('input', { id: 'vm-filter', type: 'search', value: prefs.text, placeholder: 'name, host, priority…' });
  const state = h('select', { id: 'vm-state-filter' }, h('option', { value: '' }, 'any state'));
  const count = h('span', { class: 'muted', id: 'vm-count', 'aria-live': 'polite' });
  const head = h('tr');
  const body = h('tbody');
  const table = h('table', { id: 'vm-table', class: 'table' }, h('thead', {}, head), body);

  fill(main, h('h1', {}, 'VMs'), message,
    h('div', { class: 'toolbar' },
      h('label', { for: 'vm-filter' }, 'Filter'), text,
      h('label', { for: 'vm-state-filter' }, 'State'), state, count),
    h('div', { class: 'scroll' }, table));

  text.addEventListener('input', () => { prefs.text = text.value; draw(); });
  state.addEventListener('change', () => { prefs.state = state.value; draw(); });

  function header() {
    fill(head, COLUMNS.map((c) => {
      const sorted = prefs.sort === c.key;
      return h('th', { scope: 'col', 'aria-sort': sorted ? (prefs.descending ? 'descending' : 'ascending') : 'none' },
        h('button', {
          class: 'sort', dataset: { sort: c.key },
          onclick: () => {
            prefs.descending = prefs.sort === c.key ? !prefs.descending : false;
            prefs.sort = c.key;
            draw();
          },
        }, c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, sorted ? (prefs.descending ? ' ▼' : ' ▲') : '')));
    }));
  }

  function draw() {
    header();
    const states = [...new Set(vms.map((v) => v.state))].sort();
    fill(state, h('option', { value: '' }, 'any state'), states.map((st) => h('option', { value: st, selected: st === prefs.state }, st)));
    if (prefs.state && !states.includes(prefs.state)) state.append(h('option', { value: prefs.state, selected: true }, prefs.state));
    const q = prefs.text.trim().toLowerCase();
    const shown = vms.filter((v) => (!prefs.state || v.state === prefs.state)
      && (!q || [v.name, v.host, v.priority, v.cacheMode, v.state, v.requestedState].some((f) => f && String(f).toLowerCase().includes(q))))
      .sort((a, b) => compare(a, b, prefs.sort) * (prefs.descending ? -1 : 1));
    fill(count, `${shown.length} of ${vms.length}`);
    fill(body, shown.length ? shown.map((v) => h('tr', { dataset: { vm: v.name } },
      h('td', {}, h('a', { href: `#/vms/${encodeURIComponent(v.name)}` }, v.name)),
      h('td', {}, badge(v.state)),
      h('td', {}, v.host || '–'),
      h('td', {}, v.priority),
      h('td', {}, v.cacheMode),
      h('td', {}, v.haEnabled ? 'yes' : 'no'),
      h('td', {}, v.requestedState),
      h('td', { class: 'num' }, mib(v.memoryMiB)))) : h('tr', {}, h('td', { colspan: COLUMNS.length }, 'No VM matches.')));
  }

  async function load() {
    try {
      vms = await api.get('/vms');
      note(message, 'error', '');
      draw();
    } catch (e) {
      if (e.status !== 401) note(message, 'error', e.message);
    }
  }
  const reload = debounce(load, 300);
  const unsubscribe = feed.subscribe((e) => { if (e.vm || /^host-/.test(e.type)) reload(); });
  draw();
  load();
  return { dispose: () => { unsubscribe(); reload.cancel(); } };
}
