// ---------------------------------------------------------------------------------------------
// TEST CONTROLS: present only in this test IdP, and only with `"test_controls": true`.
//
//   POST /__control {"tamper": "<mode>"}   arms a one-shot tampering of the id_token in the NEXT
//                                          successful token-endpoint response; {"tamper": null}
//                                          disarms. Answers {"armed": <mode or null>, "tampered": n}.
//   GET  /__control                        the same answer, without changing anything.
//
// Modes (each one an ID token a relying party must reject):
//   unknown_key     signed by a fresh key whose kid is not in the JWKS
//   other_audience  aud = another client's id             (re-signed with the real key)
//   expired         iat two hours ago, exp one hour ago    (re-signed with the real key)
//   wrong_nonce     a nonce the relying party never sent   (re-signed with the real key)
//   wrong_issuer    iss = "<issuer>/not-the-issuer"        (re-signed with the real key)
//   alg_none        header {"alg":"none"}, empty signature (an unsecured JWT)
//   no_signature    the real header, the signature removed ("header.payload.")
//   bad_signature   the real token with a byte of the signature flipped
// ---------------------------------------------------------------------------------------------

import { randomBytes } from 'node:crypto';

import { SignJWT, base64url, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';

import { newKey } from './keys.mjs';

export const MODES = new Set([
  'unknown_key', 'other_audience', 'expired', 'wrong_nonce', 'wrong_issuer',
  'alg_none', 'no_signature', 'bad_signature',
]);

const MAX_CONTROL_BYTES = 4096;

async function sign(header, payload, jwk) {
  const key = await importJWK(jwk, header.alg);
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** The token `idToken` altered as `mode` says; `keys` are the provider's private JWKs. */
async function tamper(idToken, mode, { keys, issuer, otherAudience }) {
  const header = decodeProtectedHeader(idToken);
  const payload = decodeJwt(idToken);
  const realKey = keys.find((k) => k.kid === header.kid);
  const now = Math.floor(Date.now() / 1000);
  const [h, p, s] = idToken.split('.');
  switch (mode) {
    case 'unknown_key': {
      const stranger = await newKey(header.alg, 'unknown');
      return sign({ ...header, kid: stranger.kid }, payload, stranger);
    }
    case 'other_audience':
      return sign(header, { ...payload, aud: otherAudience }, realKey);
    case 'expired':
      return sign(header, { ...payload, iat: now - 7200, exp: now - 3600 }, realKey);
    case 'wrong_nonce':
      return sign(header, { ...payload, nonce: base64url.encode(randomBytes(16)) }, realKey);
    case 'wrong_issuer':
      return sign(header, { ...payload, iss: `${issuer}/not-the-issuer` }, realKey);
    case 'alg_none':
      return `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`;
    case 'no_signature':
      return `${h}.${p}.`;
    case 'bad_signature': {
      const signature = Buffer.from(base64url.decode(s));
      signature[signature.length >> 1] ^= 0xff;
      return `${h}.${p}.${base64url.encode(signature)}`;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

async function readJson(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_CONTROL_BYTES) ctx.throw(413);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return ctx.throw(400, 'JSON expected');
  }
}

/**
 * The control endpoint and the token-endpoint wrapper, as one Koa middleware. `tokenPath` is the
 * provider's token endpoint path; `keys` its private JWKs.
 */
export function testControls({ tokenPath, keys, issuer, clients }) {
  const state = { armed: null, tampered: 0 };
  const answer = (ctx) => { ctx.body = { armed: state.armed, tampered: state.tampered }; };

  return async function controls(ctx, next) {
    if (ctx.path === '/__control') {
      if (ctx.method === 'POST') {
        const { tamper: mode } = await readJson(ctx);
        if (mode !== null && !MODES.has(mode)) ctx.throw(400, `tamper must be null or one of ${[...MODES]}`);
        state.armed = mode;
      } else if (ctx.method !== 'GET') {
        ctx.throw(405);
      }
      return answer(ctx);
    }

    await next();

    // After the provider answered: a successful token response carrying an id_token.
    if (ctx.path !== tokenPath || ctx.status !== 200 || !state.armed || !ctx.body?.id_token) return undefined;
    const mode = state.armed;
    state.armed = null;
    const aud = decodeJwt(ctx.body.id_token).aud;
    const otherAudience = clients.map((c) => c.client_id).find((id) => id !== aud) ?? 'another-client';
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, mode, { keys, issuer, otherAudience }) };
    state.tampered += 1;
    return undefined;
  };
}
