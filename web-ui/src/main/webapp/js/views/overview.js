// Cluster overview: counts, failure tolerance now against the policy's promise, and every host's memory bar.
import * as api from '../api.js';
import { h, fill, badge, mib, note, debounce } from '../dom.js';
import { memoryBar, memoryLegend, memoryNumbers } from '../charts.js';

export function renderOverview(main, { feed }) {
  const message = h('p', { class: 'note', role: 'alert', hidden: true });
  const summary = h('div', { class: 'cards', id: 'summary' });
  const hosts = h('div', { id: 'hosts', class: 'hosts' });
  fill(main, h('h1', {}, 'Cluster'), message, summary,
    h('h2', {}, 'Hosts'), memoryLegend(null), hosts);

  async function load() {
    try {
      const c = await api.get('/cluster');
      note(message, 'error', '');
      fill(summary, summaryCards(c));
      fill(hosts, c.hostMemory.length ? c.hostMemory.map((m) => hostRow(m, message)) : h('p', {}, 'No host has connected yet.'));
    } catch (e) {
      if (e.status !== 401) note(message, 'error', e.message);
    }
  }
  const reload = debounce(load, 300);
  const unsubscribe = feed.subscribe((e) => {
    if (/^(host|vm|cache|failover|policy|admission)/.test(e.type)) reload();
  });
  load();
  return { dispose: () => { unsubscribe(); reload.cancel(); } };
}

function summaryCards(c) {
  const a = c.admission;
  const promised = a.promisedHostFailures;
  const promise = a.admissionControl === 'percentage' ? `keeps ${a.reservePercent}% free`
    : a.admissionControl === 'off' ? 'admission control is off'
      : `promises ${promised} host failure${promised === 1 ? '' : 's'}`;
  const short = promised !== null && promised !== undefined && c.failuresTolerated < promised;
  const byState = (m, except) => Object.entries(m).filter(([k]) => k !== except).map(([k, v]) => `${v} ${k}`).join(', ');
  return [
    h('section', { class: 'card stat', 'aria-label': 'hosts' },
      h('h3', {}, 'Hosts'), h('p', { class: 'big', id: 'hosts-total' }, c.hosts.total),
      h('p', {}, [`${c.hosts.usable} usable`, byState(c.hosts.byState)].filter(Boolean).join('; '))),
    h('section', { class: 'card stat', 'aria-label': 'VMs' },
      h('h3', {}, 'VMs'), h('p', { class: 'big', id: 'vms-total' }, c.vms.total),
      h('p', {}, [`${c.vms.running} running`, byState(c.vms.byState, 'running')].filter(Boolean).join('; '))),
    h('section', { class: 'card stat', 'aria-label': 'protected VMs' },
      h('h3', {}, 'Protected'), h('p', { class: 'big', id: 'vms-protected' }, c.vms.protectedVms),
      h('p', {}, `HA VMs meant to run (${c.vms.protectedRunning} running)`)),
    h('section', { class: `card stat ${short ? 'short' : ''}`, 'aria-label': 'failure tolerance' },
      h('h3', {}, 'Failure tolerance'),
      h('p', { class: 'big', id: 'failures-tolerated' }, `${c.failuresTolerated}`,
        h('span', { class: 'unit' }, ` host failure${c.failuresTolerated === 1 ? '' : 's'} now`)),
      h('p', { id: 'failures-promised' }, `Policy (${a.admissionControl}) ${promise}.`,
        short ? h('strong', {}, ' Below the promise.') : ''),
      h('p', { class: 'hint small' }, c.failuresToleratedDetail)),
    h('section', { class: 'card stat', 'aria-label': 'memory' },
      h('h3', {}, 'Memory'), h('p', { class: 'big' }, mib(c.memory.totalMiB)),
      h('p', {}, `${mib(c.memory.usedMiB)} used by VMs, ${mib(c.memory.reserveMiB)} reserved `
        + `(${mib(c.memory.cacheLentMiB)} lent as cache), ${mib(c.memory.freeMiB)} free`)),
  ];
}

function hostRow(m, message) {
  const actions = [];
  if (api.can('operator') && (m.connected || m.maintenance)) {
    const button = h('button', {
      class: 'small', dataset: { action: 'maintenance', host: m.name },
      onclick: async () => {
        button.disabled = true;
        try {
          await api.post(`/hosts/${encodeURIComponent(m.name)}/maintenance`, { enabled: !m.maintenance });
          note(message, 'info', `Maintenance ${m.maintenance ? 'ending' : 'starting'} on ${m.name}.`);
        } catch (e) {
          note(message, 'error', e.message);
          button.disabled = false;
        }
      },
    }, m.maintenance ? 'End maintenance' : 'Maintenance');
    actions.push(button);
  }
  return h('article', { class: 'host card', dataset: { host: m.name, state: m.state } },
    h('header', {},
      h('h3', {}, m.name), badge(m.state), m.maintenance ? h('span', { class: 'badge warn' }, 'maintenance') : '',
      h('span', { class: 'muted' }, `${m.vms} VM${m.vms === 1 ? '' : 's'}, ${mib(m.haMiB)} HA`), h('span', { class: 'spacer' }),
      actions),
    memoryBar(m),
    h('p', { class: 'numbers' }, memoryNumbers(m).map((t) => h('span', {}, t))));
}
