// The sign-in and consent pages. oidc-provider's own `devInteractions` accept any login with any
// password (and pull a Google font), so they are off and these plain HTML forms take their
// place: a browser can use them, and a test drives them with an HTTP client and a cookie jar.
//
//   GET  /interaction/:uid          the login form (prompt "login") or the consent form
//   POST /interaction/:uid/login    login + password; a wrong pair answers 401 with the form again
//   POST /interaction/:uid/confirm  grants what the consent page listed
//   GET  /interaction/:uid/abort    ends the interaction with access_denied

import { createHash, timingSafeEqual } from 'node:crypto';

const MAX_FORM_BYTES = 16 * 1024;

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(ctx, status, title, body) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

function loginForm(ctx, uid, { clientId, login, error }) {
  page(ctx, error ? 401 : 200, 'Sign in', `<p>Client <code>${escapeHtml(clientId)}</code> asks you to sign in.</p>
${error ? `<p id="error">${escapeHtml(error)}</p>\n` : ''}<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Login <input type="text" name="login" value="${escapeHtml(login ?? '')}" autocomplete="username" required autofocus></label>
<label>Password <input type="password" name="password" value="" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`);
}

function consentForm(ctx, uid, { clientId, scopes }) {
  page(ctx, 200, 'Authorize', `<p>Client <code>${escapeHtml(clientId)}</code> asks for: ${scopes.map(escapeHtml).join(', ')}.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/confirm">
<button type="submit">Allow</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`);
}

async function readForm(ctx) {
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(415, 'a form post is expected');
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Compares digests, so neither the length nor the content of the password leaks through time.
const sameSecret = (a, b) => timingSafeEqual(
  createHash('sha256').update(a).digest(),
  createHash('sha256').update(b).digest(),
);

/** The interaction pages as a Koa middleware, given the checked configuration. */
export function interactions(config) {
  const users = new Map(config.users.map((u) => [u.login, u]));
  const route = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm|abort))?$/;

  return async function interactionPages(ctx, next) {
    const match = route.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    const expected = action === 'login' || action === 'confirm' ? 'POST' : 'GET';
    if (ctx.method !== expected) ctx.throw(405);

    const provider = ctx.app; // the Provider is the Koa application
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      // No interaction cookie, or it expired: nothing to resume.
      page(ctx, err.status ?? 400, 'Sign-in failed', `<p>${escapeHtml(err.error_description ?? err.message)}</p>`);
      return undefined;
    }
    if (details.uid !== uid) {
      page(ctx, 400, 'Sign-in failed', '<p>This sign-in page belongs to another sign-in attempt.</p>');
      return undefined;
    }
    const { prompt, params } = details;
    const clientId = params.client_id;

    if (action === 'abort') {
      ctx.respond = false;
      return provider.interactionFinished(ctx.req, ctx.res, {
        error: 'access_denied', error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
    }

    if (action === undefined) {
      if (prompt.name === 'login') return loginForm(ctx, uid, { clientId, login: params.login_hint });
      return consentForm(ctx, uid, { clientId, scopes: String(params.scope ?? '').split(' ') });
    }

    if (action === 'login') {
      if (prompt.name !== 'login') ctx.throw(400, 'no sign-in is pending');
      const form = await readForm(ctx);
      const login = form.get('login') ?? '';
      const user = users.get(login);
      // The password is compared even for an unknown login: both failures take the same time.
      const passwordOk = sameSecret(form.get('password') ?? '', user?.password ?? '\u0000');
      if (!user || !passwordOk) {
        return loginForm(ctx, uid, { clientId, login, error: 'Wrong login or password.' });
      }
      ctx.respond = false;
      return provider.interactionFinished(ctx.req, ctx.res, {
        login: { accountId: user.sub },
      }, { mergeWithLastSubmission: false });
    }

    // action === 'confirm': grant exactly what the provider said is missing.
    // The consent form has no fields (an empty post may come without a content type).
    if (prompt.name !== 'consent') ctx.throw(400, 'no consent is pending');
    const { details: missing } = prompt;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scope.join(' '));
      }
    }
    ctx.respond = false;
    return provider.interactionFinished(ctx.req, ctx.res, {
      consent: { grantId: await grant.save() },
    }, { mergeWithLastSubmission: true });
  };
}

/**
 * oidc-provider's `loadExistingGrant`: the grant from an earlier consent, or, for a first-party
 * client (no `consent: true`), a new one for `openid email profile` so no consent page shows.
 */
export function loadExistingGrant(config) {
  const firstParty = new Set(config.clients.filter((c) => !c.consent).map((c) => c.client_id));
  return async function load(ctx) {
    const { client, session, result, provider } = ctx.oidc;
    const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      const grant = await provider.Grant.find(grantId);
      if (grant) return grant;
    }
    if (!firstParty.has(client.clientId) || !session.accountId) return undefined;
    const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  };
}
