#!/usr/bin/env node
// A real OpenID Connect provider for Tessera's end-to-end SSO tests: panva's oidc-provider
// (OpenID Certified), on 127.0.0.1, configured from a JSON file. See README.md in this directory.
//
//   node tests/idp/idp.mjs --config example.json [--port N] [--generation G] [--keys-file F]
//
// Prints `ready <issuer>` on stdout once it accepts connections; logs one line per request on
// stderr (method, path without the query, status).

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

import { strictClientAuth } from './lib/client_auth.mjs';
import { fail, loadConfig } from './lib/config.mjs';
import { interactions, loadExistingGrant } from './lib/interactions.mjs';
import { loadKeys } from './lib/keys.mjs';
import { testControls } from './lib/tamper.mjs';

const config = loadConfig(process.argv.slice(2));
const keys = await loadKeys(config);

// Bind first (port 0 lets the kernel choose, race-free), then build the provider for the issuer
// that port makes. Until it is built, requests are answered 503.
let handler = null;
const server = createServer((req, res) => {
  if (handler) return handler(req, res);
  res.statusCode = 503;
  return res.end();
});
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, '127.0.0.1', resolve);
}).catch((err) => fail(`cannot listen on 127.0.0.1:${config.port}: ${err.message}`));
const issuer = `http://127.0.0.1:${server.address().port}`;
if (config.issuer !== undefined && config.issuer !== issuer) {
  fail(`issuer ${config.issuer} is not ${issuer}, where this provider listens (drop "issuer" or fix "port")`);
}

const users = new Map(config.users.map((u) => [u.sub, u]));
const profileClaims = ['name', 'family_name', 'given_name', 'middle_name', 'nickname',
  'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo',
  'locale', 'updated_at'];
// A user's extra claims are released with the `profile` scope.
const extraClaims = new Set(config.users.flatMap((u) => Object.keys(u.claims)));

const provider = new Provider(issuer, {
  clients: config.clients.map(({ consent, ...client }) => ({
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  async findAccount(ctx, sub) {
    const user = users.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { ...user.claims, sub, email: user.email, email_verified: user.email_verified };
      },
    };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: [...new Set([...profileClaims, ...extraClaims])],
  },
  scopes: ['openid', 'email', 'profile'],
  conformIdTokenClaims: config.conformIdTokenClaims,
  // Plain http on 127.0.0.1: oidc-provider only marks its cookies `Secure` when the request came
  // over https (ctx.secure), so over http they are sent without it; stated here all the same.
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
    long: { httpOnly: true, sameSite: 'lax', secure: false },
    short: { httpOnly: true, sameSite: 'lax', secure: false },
  },
  features: {
    devInteractions: { enabled: false }, // they accept any password: see lib/interactions.mjs
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  jwks: { keys },
  // Every authorization request must carry a PKCE S256 code_challenge (plain is not offered).
  pkce: { required: () => true },
  loadExistingGrant: loadExistingGrant(config),
  clientBasedCORS: () => false,
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Error</title></head><body>
<h1>Error</h1>\n${Object.entries(out).map(([k, v]) => `<p><b>${k}</b>: ${String(v).replace(/[&<>"']/g, '')}</p>`).join('\n')}
</body></html>\n`;
  },
});

// Requests on stderr: method, path (no query: it carries codes), status.
provider.use(async (ctx, next) => {
  try {
    await next();
  } finally {
    process.stderr.write(`${ctx.method} ${ctx.path} ${ctx.status}\n`);
  }
});

// oidc-provider sends no Cache-Control on discovery and the JWKS; real IdPs let them be cached
// for a while, so (unless `cache_control` is null) these answers say how long.
const discoveryPaths = new Set(['/.well-known/openid-configuration', provider.pathFor('jwks')]);
provider.use(async (ctx, next) => {
  await next();
  if (config.cacheControl && discoveryPaths.has(ctx.path) && ctx.status === 200) {
    ctx.set('cache-control', config.cacheControl);
  }
});

if (config.testControls) {
  provider.use(testControls({ tokenPath: provider.pathFor('token'), keys, issuer, clients: config.clients }));
}
provider.use(strictClientAuth({ tokenPath: provider.pathFor('token'), clients: config.clients }));
provider.use(interactions(config));

handler = provider.callback();
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
process.stdout.write(`ready ${issuer}\n`);
