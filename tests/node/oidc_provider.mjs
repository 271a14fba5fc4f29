// A real OpenID Connect provider for the browser tests: the certified oidc-provider package with
// one confidential client, PKCE required, and its development sign-in form, which takes any
// login and password. The login typed in is the account: its `sub` and its `email`.
//
// Settings, from the environment:
//   OIDC_PORT                        port to listen on, on 127.0.0.1
//   OIDC_ISSUER                      default http://127.0.0.1:$OIDC_PORT
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET
//   OIDC_REDIRECT_URIS               comma-separated
//   OIDC_POST_LOGOUT_REDIRECT_URIS   comma-separated, may be empty
//   OIDC_VERBOSE=1                   keep oidc-provider's own development warnings
//   OIDC_EXIT_WITH_STDIN=1           exit when stdin closes (the test run that started it
//                                    ended, even if it was killed)
//
// Prints one line, "ready", once it listens. Consent is granted without asking (openid email
// profile for the one client), so a sign-in is the login form and nothing more. Sign-out
// (end_session_endpoint) asks "Yes, sign me out" / "No, stay signed in", as the package does.

import { generateKeyPairSync, randomBytes } from 'node:crypto';

const verbose = process.env.OIDC_VERBOSE === '1';
if (!verbose) {
  // oidc-provider warns at start-up about every development default (and about Node 20); the
  // tests use those defaults on purpose. Its other messages, and every error, still show.
  const warn = console.warn.bind(console);
  const info = console.info.bind(console);
  const quiet = (write) => (first, ...rest) => {
    if (typeof first === 'string' && /^oidc-provider (WARNING|NOTICE):/.test(first)) return;
    write(first, ...rest);
  };
  console.warn = quiet(warn);
  console.info = quiet(info);
}

// Imported after the console is set up: the package warns as it loads.
const { default: Provider } = await import('oidc-provider');

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`oidc_provider.mjs: ${name} must be set`);
    process.exit(2);
  }
  return value;
}

function list(value) {
  return (value || '').split(',').map((item) => item.trim()).filter(Boolean);
}

const port = Number(required('OIDC_PORT'));
const issuer = process.env.OIDC_ISSUER || `http://127.0.0.1:${port}`;
const clientId = required('OIDC_CLIENT_ID');
const scope = 'openid email profile';

// A signing key of this run's own: the ID tokens are RS256, verifiable against the JWKS.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };

const page = (title, body) => `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title></head>
<body><main><h1>${title}</h1>${body}</main></body>
</html>`;

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: required('OIDC_CLIENT_SECRET'),
    redirect_uris: list(required('OIDC_REDIRECT_URIS')),
    post_logout_redirect_uris: list(process.env.OIDC_POST_LOGOUT_REDIRECT_URIS),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // The claims of the granted scopes go into the ID token too, not only to userinfo.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const local = id.split('@')[0] || id;
        return { sub: id, email: id, email_verified: true, name: local };
      },
    };
  },
  // Consent is not what the tests are about: the one client gets openid email profile.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant) return grant;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(scope);
    await grant.save();
    return grant;
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // The package's own pages load a web font from the internet; these load nothing.
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out', `${form}
<p>Do you want to sign out from ${ctx.host}?</p>
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out.</p>');
      },
    },
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 86400,
    Grant: 86400,
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    const items = Object.entries(out)
      .map(([key, value]) => `<dt>${key}</dt><dd>${String(value).replace(/[<>&"]/g, '')}</dd>`);
    ctx.body = page('Sign-in error', `<dl>${items.join('')}</dl>`);
  },
};

const provider = new Provider(issuer, configuration);
// Plain http on 127.0.0.1, no proxy in front: the request's own host and scheme are the truth.
provider.proxy = false;

for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error',
  'userinfo.error', 'introspection.error']) {
  provider.on(event, (ctx, error) => {
    const detail = error?.error_description ? ` (${error.error_description})` : '';
    console.error(`oidc-provider ${event}: ${error?.message ?? error}${detail}`);
  });
}

const server = provider.listen(port, '127.0.0.1', () => {
  console.log('ready');
});

function stop() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, stop);
}
if (process.env.OIDC_EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
