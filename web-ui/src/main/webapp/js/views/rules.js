// Placement rules: the list, and for admins a form to create or replace one (POST, PUT /rules) and delete buttons.
import * as api from '../api.js';
import { h, fill, note } from '../dom.js';

export function renderRules(main, { feed }) {
  const admin = api.can('admin');
  const message = h('p', { class: 'note', role: 'alert', hidden: true, id: 'rules-message' });
  const list = h('tbody');
  const table = h('table', { class: 'table', id: 'rules-table' },
    h('thead', {}, h('tr', {}, ['Name', 'Type', 'VMs', 'Strict', ''].map((c) => h('th', { scope: 'col' }, c)))), list);
  const editor = admin ? ruleForm(load, message) : null;
  fill(main, h('h1', {}, 'Placement rules'), message, h('div', { class: 'scroll' }, table), editor ? editor.form : null);

  function row(r) {
    return h('tr', { dataset: { rule: r.name } },
      h('td', {}, r.name), h('td', {}, r.type), h('td', {}, r.vms.join(', ')), h('td', {}, r.strict ? 'yes' : 'no'),
      h('td', { class: 'actions' }, admin ? [
        h('button', { class: 'small', onclick: () => editor.edit(r) }, 'Edit'),
        h('button', {
          class: 'small danger',
          onclick: async () => {
            if (!window.confirm(`Delete rule ${r.name}?`)) return;
            try {
              await api.del(`/rules/${encodeURIComponent(r.name)}`);
              note(message, 'info', `Rule ${r.name} deleted.`);
              load();
            } catch (e) { note(message, 'error', e.message); }
          },
        }, 'Delete')] : null));
  }

  async function load() {
    try {
      const rules = await api.get('/rules');
      fill(list, rules.length ? rules.map(row) : h('tr', {}, h('td', { colspan: 5 }, 'No rules.')));
    } catch (e) {
      if (e.status !== 401) note(message, 'error', e.message);
    }
  }
  load();
  return null;
}

function ruleForm(reload, message) {
  let editing = null;
  const name = h('input', { id: 'rule-name', name: 'name', autocomplete: 'off' });
  const type = h('select', { id: 'rule-type', name: 'type' }, ['anti-affinity', 'affinity'].map((t) => h('option', { value: t }, t)));
  const vms = h('input', { id: 'rule-vms', name: 'vms', autocomplete: 'off' });
  const strict = h('input', { id: 'rule-strict', name: 'strict', type: 'checkbox' });
  const error = h('p', { id: 'rule-error', class: 'note', role: 'alert', hidden: true });
  const title = h('h2', {}, 'New rule');
  const submit = h('button', { type: 'submit', class: 'primary', id: 'rule-submit' }, 'Create');
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => reset() }, 'Cancel');
  const form = h('form', { id: 'rule-form', class: 'card form editor', novalidate: true, 'aria-label': 'rule editor' },
    title,
    h('div', { class: 'fields' },
      h('div', { class: 'field' }, h('label', { for: 'rule-name' }, 'Name'), name),
      h('div', { class: 'field' }, h('label', { for: 'rule-type' }, 'Type'), type),
      h('div', { class: 'field' }, h('label', { for: 'rule-vms' }, 'VMs'), vms, h('small', { class: 'hint' }, 'at least two, comma-separated')),
      h('div', { class: 'field bool' }, h('label', { for: 'rule-strict' }, 'Strict (never broken)'), strict)),
    h('div', { class: 'actions' }, submit, cancel), error);

  function reset() {
    editing = null;
    name.value = '';
    name.readOnly = false;
    vms.value = '';
    strict.checked = false;
    fill(title, 'New rule');
    fill(submit, 'Create');
    cancel.hidden = true;
    note(error, 'error', '');
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note(error, 'error', '');
    const body = { type: type.value, vms: vms.value.split(',').map((x) => x.trim()).filter(Boolean), strict: strict.checked };
    try {
      if (editing) {
        await api.put(`/rules/${encodeURIComponent(editing)}`, body);
        note(message, 'info', `Rule ${editing} saved.`);
      } else {
        await api.post('/rules', { name: name.value.trim(), ...body });
        note(message, 'info', `Rule ${name.value.trim()} created.`);
      }
      reset();
      reload();
    } catch (e) {
      note(error, 'error', e.detail || e.message);
    }
  });

  return {
    form,
    edit(r) {
      editing = r.name;
      name.value = r.name;
      name.readOnly = true;
      type.value = r.type;
      vms.value = r.vms.join(', ');
      strict.checked = r.strict;
      fill(title, `Edit rule ${r.name}`);
      fill(submit, 'Save');
      cancel.hidden = false;
      name.focus();
    },
  };
}
