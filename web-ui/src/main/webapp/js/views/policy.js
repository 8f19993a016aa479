// The cluster policy editor (GET, PATCH /policy as a merge patch); the API's validation message is shown in place.
import * as api from '../api.js';
import { h, fill, note } from '../dom.js';
import { editorForm } from '../form.js';

const FIELDS = [
  { name: 'heartbeatIntervalSeconds', label: 'Heartbeat interval (s)', kind: 'number', hint: '1–60' },
  { name: 'failureTimeoutSeconds', label: 'Failure timeout (s)', kind: 'number', hint: 'at least twice the heartbeat interval' },
  { name: 'leaseTimeoutSeconds', label: 'Lease timeout (s)', kind: 'number', hint: 'at least three heartbeat intervals' },
  { name: 'isolationResponse', label: 'Isolation response', kind: 'select', options: ['none', 'shutdown', 'poweroff'] },
  { name: 'admissionControl', label: 'Admission control', kind: 'select', options: ['host-failures', 'percentage', 'dedicated', 'off'] },
  { name: 'hostFailuresToTolerate', label: 'Host failures to tolerate', kind: 'number', hint: 'host-failures and dedicated' },
  { name: 'reservePercent', label: 'Reserve (%)', kind: 'number', hint: 'percentage: 0–100' },
  { name: 'failoverHosts', label: 'Failover hosts', kind: 'list', hint: 'dedicated: host names, comma-separated' },
  { name: 'rejoinGraceSeconds', label: 'Rejoin grace (s)', kind: 'number' },
  { name: 'shutdownPolicy', label: 'Clean shutdown', kind: 'select', options: ['migrate', 'failover', 'freeze'] },
];

export function renderPolicy(main) {
  const message = h('p', { class: 'note', role: 'alert', hidden: true });
  const holder = h('div');
  fill(main, h('h1', {}, 'Cluster policy'), message, holder,
    h('p', { class: 'hint' }, 'Only the fields you change are sent; an emptied field goes back to its default.'));
  api.get('/policy').then((policy) => {
    const { form } = editorForm({
      id: 'policy-form', title: 'HA policy', fields: FIELDS, values: policy, readOnly: !api.can('admin'),
      save: (patch) => api.patch('/policy', patch),
    });
    fill(holder, form);
  }).catch((e) => { if (e.status !== 401) note(message, 'error', e.message); });
  return null;
}
