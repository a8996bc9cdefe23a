// The sign-in page's script: served from /signin/signin.js (the page's policy runs no inline
// script). It talks to the API with fetch and writes only text into the page (textContent,
// input values), never markup.
'use strict';

(function () {
  const byId = (id) => document.getElementById(id);
  const STEPS = ['password-step', 'totp-step', 'enrol-step', 'sso-step', 'signed-in'];
  // The second-factor challenge of a sign-in in progress.
  let challenge = null;

  function say(text) {
    const status = byId('status');
    if (status) status.textContent = text;
  }

  function fail(text) {
    const error = byId('error');
    if (error) error.textContent = text;
  }

  function clearMessages() {
    say('');
    fail('');
  }

  // Shows the sections named, hides the other steps.
  function show(...visible) {
    for (const id of STEPS) {
      const el = byId(id);
      if (el) el.hidden = !visible.includes(id);
    }
  }

  function focusHeading(id) {
    const heading = byId(id);
    if (heading) heading.focus();
  }

  function busy(form, on) {
    form.setAttribute('aria-busy', on ? 'true' : 'false');
    for (const button of form.querySelectorAll('button')) button.disabled = on;
  }

  // What to tell a person about a refused call.
  function explain(status, message, retryAfter, unauthorized) {
    if (status === 401) return unauthorized;
    if (status === 429 || status === 503) {
      const wait = retryAfter ? retryAfter + ' seconds' : 'a moment';
      return 'Too many attempts right now. Try again in ' + wait + '.';
    }
    if (status === 404 && message === '') return 'This server does not offer that step.';
    return message || 'The server refused the request (' + status + ').';
  }

  // Calls the API; resolves with the envelope's result, rejects with a sentence to show.
  async function call(method, path, body, options) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (options && options.csrf) headers['X-CSRF-Token'] = options.csrf;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (e) {
      throw new Error('The server cannot be reached. Check the connection and try again.');
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch (e) {
      answer = null;
    }
    if (!response.ok || !answer || answer.success === false) {
      const first = answer && Array.isArray(answer.errors) && answer.errors[0];
      const message = first && typeof first.message === 'string' ? first.message : '';
      throw new Error(explain(response.status, message, response.headers.get('Retry-After'),
        (options && options.unauthorized) || 'Sign-in failed. Check what you entered.'));
    }
    return answer.result;
  }

  // Goes on from an answer of a sign-in step.
  function proceed(result) {
    if (result && result.mfa_required) {
      challenge = result.challenge;
      show('totp-step');
      focusHeading('totp-heading');
      say('Enter the one-time code from your authenticator app.');
      return;
    }
    if (result && result.mfa_enrolment_required) {
      challenge = result.challenge;
      show('enrol-step');
      focusHeading('enrol-heading');
      say('Your account asks for a second factor: set one up to finish signing in.');
      return;
    }
    if (result && typeof result.token === 'string') {
      signedIn(result);
      return;
    }
    fail('The server answered something this page does not understand.');
  }

  // The authorization request that sent the browser here to sign in (set by the server, a
  // path of its own /oauth/authorize only), if any.
  function returnTo() {
    const form = byId('password-form');
    const next = form ? form.dataset.returnTo || '' : '';
    return next.startsWith('/oauth/authorize') ? next : '';
  }

  function signedIn(result) {
    challenge = null;
    const next = returnTo();
    const fresh = Array.isArray(result.recovery_codes) && result.recovery_codes.length > 0;
    if (next && !fresh) {
      say('Signed in. Going back to the application…');
      window.location.assign(next);
      return;
    }
    const section = byId('signed-in');
    section.dataset.csrf = result.csrf_token || '';
    byId('token').value = result.token;
    const expires = byId('expires');
    expires.dateTime = result.expires_at;
    const when = new Date(result.expires_at);
    expires.textContent = isNaN(when) ? result.expires_at : when.toLocaleString();
    const codes = Array.isArray(result.recovery_codes) ? result.recovery_codes : [];
    const list = byId('recovery-codes');
    list.replaceChildren();
    for (const code of codes) {
      const item = document.createElement('li');
      item.textContent = String(code);
      list.appendChild(item);
    }
    byId('recovery').hidden = codes.length === 0;
    const title = byId('title');
    if (title) title.textContent = 'Signed in to Tessera';
    const onward = byId('continue');
    if (onward) {
      onward.hidden = !next;
      byId('continue-link').href = next || '#';
    }
    show('signed-in');
    focusHeading('done-heading');
    say(next ? 'Signed in. Store your recovery codes, then continue to the application.' : 'Signed in.');
  }

  async function submitStep(form, run) {
    clearMessages();
    busy(form, true);
    try {
      await run();
    } catch (e) {
      fail(e.message);
    } finally {
      busy(form, false);
    }
  }

  function onPassword(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const accountText = byId('account_id').value.trim();
    const account = Number(accountText);
    if (!/^[0-9]+$/.test(accountText) || !Number.isSafeInteger(account) || account < 1) {
      fail('The account id is a whole number, 1 or more.');
      byId('account_id').focus();
      return;
    }
    if (byId('login').value.trim() === '' || byId('password').value === '') {
      fail('Enter your login and your password.');
      (byId('login').value.trim() === '' ? byId('login') : byId('password')).focus();
      return;
    }
    submitStep(form, async () => {
      const result = await call('POST', '/v1/sessions', {
        account_id: account,
        login: byId('login').value.trim(),
        password: byId('password').value,
        cookie: true,
      }, { unauthorized: 'The account id, login or password is not right.' });
      byId('password').value = '';
      proceed(result);
    });
  }

  function sendCode(form, input) {
    const code = input.value.replace(/\s+/g, '');
    if (code === '') {
      fail('Enter the code.');
      input.focus();
      return;
    }
    submitStep(form, async () => {
      const result = await call('POST', '/v1/sessions/mfa', { challenge, code, cookie: true },
        { unauthorized: 'That code is not right, or the sign-in took too long. Try again.' });
      input.value = '';
      proceed(result);
    });
  }

  function onEnrolStart(event) {
    const button = event.currentTarget;
    clearMessages();
    button.disabled = true;
    call('POST', '/v1/sessions/mfa/enrol', { challenge },
      { unauthorized: 'The sign-in took too long. Start again.' })
      .then((result) => {
        byId('enrol-secret').textContent = String(result.secret || '');
        byId('enrol-uri').textContent = String(result.otpauth_uri || '');
        byId('enrol-details').hidden = false;
        byId('enrol-code').focus();
        say('Add the key to your authenticator app, then enter the code it shows.');
      })
      .catch((e) => fail(e.message))
      .finally(() => { button.disabled = false; });
  }

  async function onCopy() {
    const input = byId('token');
    try {
      await navigator.clipboard.writeText(input.value);
      say('The token is copied.');
    } catch (e) {
      input.focus();
      input.select();
      say('Select-all is done: copy the token with your keyboard.');
    }
  }

  function onSignOut(event) {
    const button = event.currentTarget;
    clearMessages();
    button.disabled = true;
    const csrf = byId('signed-in').dataset.csrf || '';
    call('DELETE', '/v1/sessions', undefined,
      { csrf, unauthorized: 'This session has ended already.' })
      .then(() => {
        byId('token').value = '';
        window.location.assign('/signin?signed_out=1');
      })
      .catch((e) => {
        fail(e.message);
        button.disabled = false;
      });
  }

  function start() {
    const on = (id, type, handler) => {
      const el = byId(id);
      if (el) el.addEventListener(type, handler);
    };
    on('password-form', 'submit', onPassword);
    on('totp-form', 'submit', (event) => {
      event.preventDefault();
      sendCode(event.currentTarget, byId('code'));
    });
    on('enrol-form', 'submit', (event) => {
      event.preventDefault();
      sendCode(event.currentTarget, byId('enrol-code'));
    });
    on('enrol-start', 'click', onEnrolStart);
    on('copy', 'click', onCopy);
    on('sign-out', 'click', onSignOut);
    if (new URLSearchParams(window.location.search).has('signed_out')) {
      say('You are signed out: this browser no longer holds the session.');
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
