// One VM: its fields, operator actions, the settings editor (PATCH, merge patch) and its event history.
import * as api from '../api.js';
import { h, fill, badge, mib, note, time, debounce } from '../dom.js';
import { editorForm } from '../form.js';

const PRIORITIES = ['highest', 'high', 'medium', 'low', 'lowest', 'disabled'];
export const VM_FIELDS = [
  { name: 'haEnabled', label: 'HA enabled', kind: 'bool' },
  { name: 'priority', label: 'Restart priority', kind: 'select', options: PRIORITIES },
  { name: 'requestedState', label: 'Requested state', kind: 'select', options: ['started', 'stopped', 'disabled', 'ignored'] },
  { name: 'preferredHosts', label: 'Preferred hosts', kind: 'hosts', hint: 'host:priority, … (higher preferred)' },
  { name: 'strict', label: 'Only preferred hosts', kind: 'bool' },
  { name: 'startAfter', label: 'Start after', kind: 'list', hint: 'VM names, comma-separated' },
  { name: 'startAfterTimeoutSeconds', label: 'Start-after timeout (s)', kind: 'number' },
  { name: 'maxRestarts', label: 'Max restarts', kind: 'number' },
  { name: 'maxRelocations', label: 'Max relocations', kind: 'number' },
  { name: 'failback', label: 'Failback', kind: 'bool' },
  { name: 'cacheMode', label: 'Cache mode', kind: 'select', options: ['write-back', 'write-back-recoverable', 'write-through'] },
  { name: 'cacheWeight', label: 'Cache weight', kind: 'number', hint: '0–1000' },
];

const FACTS = [
  ['state', 'State'], ['stateReason', 'State reason'], ['host', 'Host'], ['generation', 'Lease generation'], ['memoryMiB', 'Memory'], ['vcpus', 'vCPUs'],
  ['cacheBudgetMiB', 'Cache budget'], ['cacheMiB', 'Cache held'], ['cacheDirtyMiB', 'Cache dirty'], ['lastError', 'Last error'],
];

export function renderVm(main, { params, feed }) {
  const name = params[0];
  const path = `/vms/${encodeURIComponent(name)}`;
  const message = h('p', { class: 'note', role: 'alert', hidden: true, id: 'vm-message' });
  const facts = h('dl', { class: 'facts card', id: 'vm-facts' });
  const actions = h('div', { class: 'actions', id: 'vm-actions' });
  const editor = h('div', { id: 'vm-editor' });
  const events = h('ol', { class: 'timeline', id: 'vm-events' });
  fill(main, h('p', {}, h('a', { href: '#/vms' }, '← VMs')), h('h1', {}, 'VM ', h('span', { id: 'vm-name' }, name)),
    message, facts, actions, editor, h('h2', {}, 'Events'), events);

  let form = null;
  let hosts = [];

  function drawFacts(vm) {
    fill(facts, FACTS.map(([k, label]) => [h('dt', {}, label), h('dd', { dataset: { field: k } },
      k === 'state' ? badge(vm.state) : k.endsWith('MiB') ? mib(vm[k]) : vm[k] ?? '–')]));
  }

  function drawActions(vm) {
    const buttons = [];
    const act = (label, fn, attrs = {}) => h('button', {
      ...attrs,
      onclick: async () => {
        try {
          await fn();
          note(message, 'info', `${label}: requested.`);
        } catch (e) {
          note(message, 'error', e.message);
        }
      },
    }, label);
    if (api.can('operator')) {
      buttons.push(act('Start', () => api.post(`${path}/start`), { dataset: { action: 'start' } }));
      buttons.push(act('Stop', () => api.post(`${path}/stop`), { dataset: { action: 'stop' } }));
      const target = h('select', { id: 'move-target', 'aria-label': 'target host' },
        hosts.filter((x) => x !== vm.host).map((x) => h('option', { value: x }, x)));
      buttons.push(h('span', { class: 'move' }, h('label', { for: 'move-target' }, 'to'), target,
        act('Migrate', () => api.post(`${path}/migrate`, { host: target.value }), { dataset: { action: 'migrate' } }),
        act('Relocate', () => api.post(`${path}/relocate`, { host: target.value }), { dataset: { action: 'relocate' } })));
    }
    if (api.can('admin')) {
      buttons.push(act('Delete', async () => {
        if (!window.confirm(`Delete VM ${name}? Its domain is stopped and undefined.`)) throw new Error('not deleted');
        await api.del(path);
      }, { class: 'danger', dataset: { action: 'delete' } }));
    }
    fill(actions, buttons);
  }

  function drawEditor(vm) {
    const override = h('input', { id: 'vm-override', type: 'checkbox' });
    const { form: f, setValues } = editorForm({
      id: 'vm-settings', title: 'HA settings', fields: VM_FIELDS, values: vm, readOnly: !api.can('admin'),
      save: (patch) => api.patch(`${path}${override.checked ? '?override=true' : ''}`, patch),
      extra: api.can('admin') ? h('div', { class: 'field bool' }, h('label', { for: 'vm-override' }, 'Override admission control'), override,
        h('small', { class: 'hint' }, 'Start even if the failover reserve would be short (recorded as an event).')) : null,
    });
    form = { setValues };
    fill(editor, f);
  }

  async function loadEvents() {
    try {
      const list = await api.get(`/events?vm=${encodeURIComponent(name)}&limit=200`);
      fill(events, list.length ? list.reverse().map(eventItem) : h('li', { class: 'muted' }, 'No events yet.'));
    } catch (e) {
      if (e.status !== 401) note(message, 'error', e.message);
    }
  }

  async function load(first) {
    try {
      const [vm, hostList] = await Promise.all([api.get(path), api.get('/hosts')]);
      hosts = hostList.map((x) => x.name);
      drawFacts(vm);
      drawActions(vm);
      if (first) drawEditor(vm);
    } catch (e) {
      if (e.status === 404) note(message, 'error', `There is no VM named ${name}.`);
      else if (e.status !== 401) note(message, 'error', e.message);
    }
  }
  const reload = debounce(() => { load(false); loadEvents(); }, 300);
  const unsubscribe = feed.subscribe((e) => { if (e.vm === name) reload(); });
  load(true);
  loadEvents();
  return { dispose: () => { unsubscribe(); reload.cancel(); }, form };
}

/** One event as a timeline item (shared with the events view). */
export function eventItem(e) {
  return h('li', { class: `event type-${e.type}`, dataset: { type: e.type, host: e.host || '', vm: e.vm || '' } },
    h('time', { datetime: e.time }, time(e.timeMillis)),
    h('span', { class: 'etype' }, e.type),
    e.host ? h('span', { class: 'ehost' }, e.host) : null,
    e.vm ? h('a', { class: 'evm', href: `#/vms/${encodeURIComponent(e.vm)}` }, e.vm) : null,
    h('span', { class: 'emsg' }, e.message || ''));
}
