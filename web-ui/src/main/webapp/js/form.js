// Editor forms for the policy and a VM's settings: they send only what changed, as a JSON Merge Patch, and show the
// API's own validation message (the problem's detail) next to the form. Values are sent as typed: the controller
// validates them, so the dashboard never second-guesses the API.
import { h, note } from './dom.js';

/**
 * Field kinds: number, bool, select (options), list (comma-separated strings), hosts (host:priority pairs).
 * An empty text field is sent as null: the field takes its default.
 */
function toText(field, value) {
  if (value === null || value === undefined) return '';
  if (field.kind === 'list') return value.join(', ');
  if (field.kind === 'hosts') return value.map((p) => `${p.host}:${p.priority}`).join(', ');
  return String(value);
}

function parse(field, input) {
  if (field.kind === 'bool') return input.checked;
  const text = input.value.trim();
  if (field.kind === 'select') return text;
  if (text === '') return null;
  if (field.kind === 'number') return /^-?\d+$/.test(text) ? Number(text) : text;
  const items = text.split(',').map((x) => x.trim()).filter(Boolean);
  if (field.kind === 'list') return items;
  return items.map((item) => {
    const [host, priority] = item.split(':').map((x) => x.trim());
    const n = priority === undefined ? 0 : /^-?\d+$/.test(priority) ? Number(priority) : priority;
    return { host, priority: n };
  });
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A form over {@code fields}. {@code save(patch)} stores a merge patch and resolves to the stored values; a
 * rejection's message (the API's detail) is shown in the form. Read-only forms have no submit button.
 */
export function editorForm({ id, title, fields, values, readOnly, save, submitLabel = 'Save', extra }) {
  const inputs = {};
  let current = values;
  const error = h('p', { id: `${id}-error`, class: 'note', role: 'alert', hidden: true });
  const saved = h('p', { id: `${id}-saved`, class: 'note', role: 'status', hidden: true });
  const rows = fields.map((f) => {
    const fid = `${id}-${f.name}`;
    let input;
    if (f.kind === 'bool') {
      input = h('input', { id: fid, name: f.name, type: 'checkbox', checked: !!values[f.name], disabled: readOnly });
    } else if (f.kind === 'select') {
      input = h('select', { id: fid, name: f.name, disabled: readOnly },
        f.options.map((o) => h('option', { value: o, selected: values[f.name] === o }, o)));
    } else {
      input = h('input', {
        id: fid, name: f.name, type: 'text', value: toText(f, values[f.name]), readOnly,
        inputmode: f.kind === 'number' ? 'numeric' : undefined, autocomplete: 'off', spellcheck: 'false',
      });
    }
    inputs[f.name] = input;
    return h('div', { class: `field ${f.kind}` },
      h('label', { for: fid }, f.label), input, f.hint ? h('small', { class: 'hint' }, f.hint) : null);
  });
  const form = h('form', { id, class: 'card form editor', novalidate: true, 'aria-label': title },
    title ? h('h2', {}, title) : null,
    readOnly ? h('p', { class: 'hint readonly-note' }, 'Read-only: your role cannot change this.') : null,
    h('div', { class: 'fields' }, rows),
    extra || null,
    readOnly ? null : h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: `${id}-submit` }, submitLabel)),
    error, saved);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (readOnly) return;
    note(error, 'error', '');
    note(saved, 'ok', '');
    const patch = {};
    for (const f of fields) {
      const value = parse(f, inputs[f.name]);
      if (!same(value, current[f.name] ?? null) && !(value === null && current[f.name] === undefined)) patch[f.name] = value;
    }
    if (!Object.keys(patch).length) {
      note(saved, 'ok', 'Nothing changed.');
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const stored = await save(patch);
      setValues(stored);
      note(saved, 'ok', `Saved (${Object.keys(patch).join(', ')}).`);
    } catch (e) {
      note(error, 'error', e.detail || e.message);
    } finally {
      button.disabled = false;
    }
  });

  function setValues(v) {
    current = v;
    for (const f of fields) {
      const input = inputs[f.name];
      if (f.kind === 'bool') input.checked = !!v[f.name];
      else input.value = toText(f, v[f.name]);
    }
  }

  return { form, setValues };
}
