// Sign-in: a user name and password (POST /login, a session token), or a pasted API token (checked with /whoami).
import * as api from '../api.js';
import { h, fill, note } from '../dom.js';

export function renderLogin(main, { message, onSignedIn }) {
  const status = h('p', { id: 'login-message', class: 'note', role: 'status', 'aria-live': 'polite', hidden: true });
  if (message) note(status, 'info', message);

  const userError = h('p', { id: 'login-error', class: 'note', role: 'alert', hidden: true });
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const userForm = h('form', { id: 'login-form', class: 'card form', novalidate: true },
    h('h2', {}, 'Sign in'),
    h('label', { for: 'login-user' }, 'User'), user,
    h('label', { for: 'login-password' }, 'Password'), password,
    h('button', { id: 'login-submit', type: 'submit', class: 'primary' }, 'Sign in'),
    userError);
  const submit = userForm.querySelector('#login-submit');
  userForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note(userError, 'error', '');
    if (!user.value || !password.value) {
      note(userError, 'error', 'Enter a user name and a password.');
      return;
    }
    submit.disabled = true;
    try {
      await api.login(user.value, password.value);
      onSignedIn();
    } catch (e) {
      // 401 (Login Failed: unknown user or wrong password) and 429 (Too Many Login Attempts: ... try again in N s):
      // the API's own words, title and detail.
      const text = (e.status === 401 || e.status === 429) && e.title && e.detail ? `${e.title}: ${e.detail}` : e.message;
      note(userError, 'error', text);
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });

  const tokenError = h('p', { id: 'token-error', class: 'note', role: 'alert', hidden: true });
  const token = h('input', { id: 'login-token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const tokenForm = h('form', { id: 'token-form', class: 'card form', novalidate: true },
    h('h2', {}, 'Or use an API token'),
    h('label', { for: 'login-token' }, 'API token (vgl_…)'), token,
    h('p', { class: 'hint' }, 'The token stays in this browser tab only (session storage).'),
    h('button', { id: 'token-submit', type: 'submit' }, 'Use token'),
    tokenError);
  tokenForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note(tokenError, 'error', '');
    const value = token.value.trim();
    if (!value) {
      note(tokenError, 'error', 'Paste an API token.');
      return;
    }
    try {
      await api.useToken(value);
      onSignedIn();
    } catch (e) {
      note(tokenError, 'error', e.status === 401 ? 'The controller does not accept this token (unknown, expired or revoked).' : e.message);
    }
  });

  fill(main, h('section', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Vigil dashboard'), status, h('div', { class: 'login-forms' }, userForm, tokenForm)));
  user.focus();
}
