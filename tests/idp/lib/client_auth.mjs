// The registered token_endpoint_auth_method, enforced. oidc-provider treats client_secret_basic
// and client_secret_post as one family: a client registered for either may use the other. A test
// of a relying party's configured method needs the IdP to refuse the other one, so this
// middleware reads the token request's form (handing it to the provider pre-parsed, which it
// supports: it logs "already parsed request body detected" once) and answers 401 invalid_client,
// before the provider sees the code, when the client used the method it is not registered for.

import * as querystring from 'node:querystring';

const LIMIT = 56 * 1024; // the provider's own limit

async function readBody(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > LIMIT) ctx.throw(413);
    chunks.push(chunk);
  }
  return querystring.parse(Buffer.concat(chunks).toString('utf8'));
}

function basicClientId(header) {
  const [scheme, value] = String(header ?? '').split(' ');
  if (scheme?.toLowerCase() !== 'basic' || !value) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i === -1) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Koa middleware for the token endpoint at `tokenPath`. */
export function strictClientAuth({ tokenPath, clients }) {
  const methods = new Map(clients.map((c) => [c.client_id, c.token_endpoint_auth_method]));
  return async function registeredMethodOnly(ctx, next) {
    if (ctx.path !== tokenPath || ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) {
      return next();
    }
    const body = await readBody(ctx);
    ctx.req.body = body;
    const fromBasic = basicClientId(ctx.headers.authorization);
    const used = fromBasic !== undefined ? 'client_secret_basic'
      : body.client_secret !== undefined ? 'client_secret_post' : undefined;
    const registered = methods.get(fromBasic ?? body.client_id);
    if (used && registered && used !== registered) {
      ctx.status = 401;
      ctx.set('cache-control', 'no-store');
      ctx.body = {
        error: 'invalid_client',
        error_description: `client authentication failed: this client is registered for ${registered}`,
      };
      return undefined;
    }
    return next();
  };
}
