// Signing keys: one RS256 and one ES256 key per generation, generated with `jose` (WebCrypto),
// private JWKs persisted in the keys file so that a restart with the same generation serves the
// same JWKS, and a restart with another generation rotates every key (the old `kid`s are gone
// from the JWKS: the harshest rotation a relying party has to survive).

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

/** A new private JWK for `alg`, with `kid` = generation + RFC 7638 thumbprint. */
export async function newKey(alg, generation) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const thumbprint = await calculateJwkThumbprint(jwk);
  return { ...jwk, alg, use: 'sig', kid: `g${generation}-${alg}-${thumbprint.slice(0, 16)}` };
}

async function generate(generation) {
  return [await newKey('RS256', generation), await newKey('ES256', generation)];
}

/** The private JWKs for `generation`: from the keys file when it holds that generation. */
export async function loadKeys({ generation, keysFile }) {
  if (!keysFile) return generate(generation);
  if (existsSync(keysFile)) {
    const stored = JSON.parse(readFileSync(keysFile, 'utf8'));
    if (stored.generation === generation && Array.isArray(stored.keys)) return stored.keys;
  }
  const keys = await generate(generation);
  // Written whole then renamed: a reader never sees half a file. Private keys: owner only.
  const tmp = `${keysFile}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify({ generation, keys }, null, 2), { mode: 0o600 });
  renameSync(tmp, keysFile);
  return keys;
}
