// Failover history: each failover with its outcome and a chart of its steps (detection to each step, in ms).
import * as api from '../api.js';
import { h, fill, badge, note, time, ms, debounce } from '../dom.js';
import { stepChart } from '../charts.js';

export function renderFailovers(main, { feed }) {
  const message = h('p', { class: 'note', role: 'alert', hidden: true });
  const list = h('div', { id: 'failovers', class: 'failovers' });
  fill(main, h('h1', {}, 'Failovers'), message, list);

  function card(f) {
    const vms = f.vms.length ? h('ul', { class: 'vms' }, f.vms.map((v) => h('li', { dataset: { vm: v.name, outcome: v.outcome } },
      h('a', { href: `#/vms/${encodeURIComponent(v.name)}` }, v.name), ' ', badge(v.outcome === 'started' ? 'running' : v.outcome === 'failed' ? 'error' : 'recovery'),
      v.host ? ` on ${v.host}` : '', v.startedAfterMillis !== null && v.startedAfterMillis !== undefined ? ` after ${ms(v.startedAfterMillis)}` : '')))
      : h('p', { class: 'muted' }, 'No HA VMs to restart.');
    return h('article', { class: 'failover card', dataset: { failover: f.id, host: f.host, status: f.status } },
      h('header', {}, h('h2', {}, `${f.host} `, h('span', { class: 'muted' }, f.id)), badge(f.status), h('span', { class: 'spacer' }),
        h('span', {}, `detected ${time(f.detectedAtMillis)}`)),
      h('p', { class: 'outcome' }, f.completed ? `Completed in ${ms(f.elapsedMillis)}: ` : `${ms(f.elapsedMillis)} so far: `,
        `${f.vmsRestarted} VM${f.vmsRestarted === 1 ? '' : 's'} restarted`, f.vmsFailed ? `, ${f.vmsFailed} not restarted` : ''),
      stepChart(f), vms);
  }

  async function load() {
    try {
      const failovers = await api.get('/failovers?limit=50');
      note(message, 'error', '');
      fill(list, failovers.length ? failovers.map(card) : h('p', { class: 'muted' }, 'No host has failed yet.'));
    } catch (e) {
      if (e.status !== 401) note(message, 'error', e.message);
    }
  }
  const reload = debounce(load, 250);
  const unsubscribe = feed.subscribe((e) => {
    if ((e.details && e.details.failover) || e.type === 'host-recovered') reload();
  });
  load();
  return { dispose: () => { unsubscribe(); reload.cancel(); } };
}
