// A relying party of Tessera's, written with panva's openid-client (and its oauth4webapi for
// the resource server's check of an RFC 9068 access token): nothing here speaks OAuth by hand.
//
//   node rp.mjs <issuer> <client_id> <client_secret or -> <redirect_uri> <scope>
//
// 1. Discovers the issuer (/.well-known/openid-configuration), builds the authorization URL
//    (PKCE S256, state, nonce) and prints {"authorization_url": …} on one line.
// 2. Reads the URL the browser was redirected to (the callback, with code, state and iss) on
//    one line of stdin.
// 3. Exchanges the code (the library checks state, iss, PKCE, and the ID token: signature
//    against the JWKS, iss, aud, azp, nonce, exp, at_hash), verifies the access token as a
//    resource server would, calls userinfo, refreshes (the ID token again), then replays the
//    spent refresh token and checks that the grant is gone: the newest refresh token fails too.
// 4. Prints one JSON line with what it saw (never a token), or {"error": …} and exits 1.

import * as readline from 'node:readline';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';

const [issuer, clientId, clientSecret, redirectUri, scope] = process.argv.slice(2);
if (!scope) {
  console.error('usage: node rp.mjs <issuer> <client_id> <client_secret|-> <redirect_uri> <scope>');
  process.exit(2);
}

function out(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function oneLine() {
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line.trim();
  }
  throw new Error('no callback URL on stdin');
}

/** What a refused grant answered: its OAuth error code. */
async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e.error ?? e.code ?? String(e);
  }
}

async function main() {
  const auth = clientSecret === '-' ? client.None() : client.ClientSecretBasic(clientSecret);
  // Tessera runs on 127.0.0.1 over plain http in the tests.
  const config = await client.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
  // Checks ID tokens' signatures against the JWKS, not only their claims.
  client.enableNonRepudiationChecks(config);
  const meta = config.serverMetadata();

  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  out({ authorization_url: url.href });

  const callback = new URL(await oneLine());
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: scope.split(' ').includes('openid'),
  });
  const idClaims = tokens.claims();

  // The access token, as a resource server checks it (RFC 9068: typ at+jwt, signature by the
  // JWKS, iss, aud, exp, iat, sub, client_id, jti).
  const request = new Request(meta.issuer, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  const accessClaims = await oauth.validateJwtAccessToken(meta, request, meta.issuer, {
    [oauth.allowInsecureRequests]: true,
  });

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const refreshedClaims = refreshed.claims();
  // The spent refresh token again: refused, and the whole grant with it.
  const reuse = await refusal(client.refreshTokenGrant(config, tokens.refresh_token));
  const newestAfterReuse = await refusal(client.refreshTokenGrant(config, refreshed.refresh_token));

  out({
    iss_in_callback: callback.searchParams.get('iss'),
    id_token: idClaims,
    access_token: accessClaims,
    scope: tokens.scope,
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    has_refresh_token: typeof tokens.refresh_token === 'string',
    userinfo,
    refreshed: {
      id_token: refreshedClaims ?? null,
      scope: refreshed.scope,
      rotated: refreshed.refresh_token !== tokens.refresh_token,
    },
    reuse_error: reuse,
    newest_after_reuse_error: newestAfterReuse,
  });
}

main().catch((e) => {
  out({ error: `${e.name}: ${e.message}`, code: e.code ?? null, cause: e.cause?.message ?? null });
  process.exit(1);
});
