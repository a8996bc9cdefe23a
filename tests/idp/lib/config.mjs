// The test IdP's configuration: a JSON file (`--config <file>`) or inline JSON
// (`--config-json '<json>'`), with `--port`, `--generation` and `--keys-file` overriding the
// file. Every field is checked here so that a typo fails at start, not halfway through a test.

import { readFileSync } from 'node:fs';

const AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post']);
const SIGNING_ALGS = new Set(['RS256', 'ES256']);

/** Exits with a message on stderr; a bad configuration is the operator's or the test's bug. */
export function fail(message) {
  process.stderr.write(`idp: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!['--config', '--config-json', '--port', '--generation', '--keys-file'].includes(flag)) {
      fail(`unknown argument ${JSON.stringify(flag)}; usage: idp.mjs --config <file> `
        + '[--port <n>] [--generation <g>] [--keys-file <file>]');
    }
    if (value === undefined) fail(`${flag} needs a value`);
    args[flag.slice(2)] = value;
    i += 1;
  }
  return args;
}

const isString = (v) => typeof v === 'string' && v.length > 0;

function checkClient(c, i) {
  const where = `clients[${i}]`;
  if (!isString(c.client_id)) fail(`${where}.client_id must be a non-empty string`);
  if (!isString(c.client_secret)) fail(`${where}.client_secret must be a non-empty string`);
  if (!Array.isArray(c.redirect_uris) || !c.redirect_uris.length || !c.redirect_uris.every(isString)) {
    fail(`${where}.redirect_uris must be a non-empty array of URLs`);
  }
  const method = c.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!AUTH_METHODS.has(method)) fail(`${where}.token_endpoint_auth_method must be one of ${[...AUTH_METHODS]}`);
  const alg = c.id_token_signed_response_alg ?? 'RS256';
  if (!SIGNING_ALGS.has(alg)) fail(`${where}.id_token_signed_response_alg must be one of ${[...SIGNING_ALGS]}`);
  return {
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    token_endpoint_auth_method: method,
    id_token_signed_response_alg: alg,
    // A third-party client gets the consent page; first-party ones (the default) are granted
    // `openid email profile` without asking.
    consent: c.consent === true,
  };
}

function checkUser(u, i) {
  const where = `users[${i}]`;
  for (const field of ['login', 'password', 'email']) {
    if (!isString(u[field])) fail(`${where}.${field} must be a non-empty string`);
  }
  if (typeof (u.email_verified ?? true) !== 'boolean') fail(`${where}.email_verified must be a boolean`);
  if (u.sub !== undefined && !isString(u.sub)) fail(`${where}.sub must be a non-empty string`);
  const claims = u.claims ?? {};
  if (typeof claims !== 'object' || Array.isArray(claims)) fail(`${where}.claims must be an object`);
  for (const reserved of ['sub', 'email', 'email_verified', 'iss', 'aud', 'exp', 'iat', 'nonce']) {
    if (reserved in claims) fail(`${where}.claims must not set ${reserved}`);
  }
  return {
    login: u.login,
    password: u.password,
    // The subject: stable, what a relying party links the account by. Defaults to the login.
    sub: u.sub ?? u.login,
    email: u.email,
    email_verified: u.email_verified ?? true,
    claims,
  };
}

/** Reads and checks the configuration from the command line. */
export function loadConfig(argv) {
  const args = parseArgs(argv);
  let raw;
  try {
    if (args.config !== undefined) raw = JSON.parse(readFileSync(args.config, 'utf8'));
    else if (args['config-json'] !== undefined) raw = JSON.parse(args['config-json']);
    else fail('--config <file> or --config-json <json> is required');
  } catch (err) {
    fail(`cannot read the configuration: ${err.message}`);
  }

  const port = Number(args.port ?? raw.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('port must be 0..65535 (0: any free port)');
  if (raw.issuer !== undefined && !isString(raw.issuer)) fail('issuer must be a URL');

  if (!Array.isArray(raw.clients) || !raw.clients.length) fail('clients must be a non-empty array');
  const clients = raw.clients.map(checkClient);
  if (new Set(clients.map((c) => c.client_id)).size !== clients.length) fail('client_id values must be unique');

  if (!Array.isArray(raw.users) || !raw.users.length) fail('users must be a non-empty array');
  const users = raw.users.map(checkUser);
  if (new Set(users.map((u) => u.login)).size !== users.length) fail('user logins must be unique');
  if (new Set(users.map((u) => u.sub)).size !== users.length) fail('user subjects must be unique');

  const cacheControl = raw.cache_control === undefined ? 'public, max-age=300' : raw.cache_control;
  if (cacheControl !== null && !isString(cacheControl)) fail('cache_control must be a string or null');

  return {
    port,
    // The issuer is always http://127.0.0.1:<the bound port>; `issuer` in the file only states
    // it (checked once bound), and `--port` on the command line overrides both.
    issuer: args.port === undefined ? raw.issuer : undefined,
    clients,
    users,
    // Keys: the same `generation` with the same `keys_file` keeps the keys; a new generation
    // replaces them. Without a keys file every start has new keys.
    generation: String(args.generation ?? raw.generation ?? '1'),
    keysFile: args['keys-file'] ?? raw.keys_file,
    cacheControl,
    // false (default): the ID token carries the scope's claims (email, email_verified, …) like
    // most IdPs; true: oidc-provider's strict default, those claims only at the userinfo
    // endpoint when an access token is issued too.
    conformIdTokenClaims: raw.conform_id_token_claims === true,
    // The test-only tampering endpoint `/__control`: off unless asked for.
    testControls: raw.test_controls === true,
  };
}
