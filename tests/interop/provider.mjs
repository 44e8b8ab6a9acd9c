// An independent OpenID provider for token-inspector's interop test: panva's
// oidc-provider in its FAPI 2.0 profile, on loopback HTTPS, with one sender
// constraint for the client's tokens:
//   BINDING=mtls (default)  mutual TLS, certificate-bound access tokens (RFC 8705)
//   BINDING=dpop            DPoP (RFC 9449) with server nonces required on every
//                           endpoint that takes proofs (PAR, token, userinfo); no
//                           client certificate is asked for
//
// Environment:
//   BINDING             mtls or dpop (see above)
//   TLS_CERT, TLS_KEY   server certificate and key (PEM files)
//   PORT                port to listen on (default 0: any free port)
//   CLIENT_ID           the one client's client_id (default interop-client)
//   CLIENT_JWKS         file with the client's public JWKS
//   REDIRECT_URI        the client's one redirect_uri (a loopback URL)
//   FAPI                2.0 (default) or 1.0: the FAPI 1 Advanced Final profile, with
//                       the hybrid flow (code id_token) and JARM (response_mode jwt)
//                       for a native client on loopback (mTLS binding)
//   ENCRYPT_ID_TOKEN    with FAPI=1.0: id_tokens encrypted to the client's use:enc key
//                       (RSA-OAEP, A256GCM), as Open Finance Brasil asks
//
// Prints `issuer: https://127.0.0.1:PORT` on stdout once listening.
//
// The interactive login and consent are replaced by an automatic one: any request to
// /interaction/:uid logs in as `alice` and grants what the client asked for, so a
// plain HTTP client following redirects (curl -L with a cookie jar) ends at the
// client's redirect_uri with a code.

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';

import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const tlsCert = readFileSync(required('TLS_CERT'));
const tlsKey = readFileSync(required('TLS_KEY'));
const clientId = process.env.CLIENT_ID || 'interop-client';
const clientJwks = JSON.parse(readFileSync(required('CLIENT_JWKS'), 'utf8'));
const redirectUri = required('REDIRECT_URI');
const port = Number(process.env.PORT || 0);
const binding = process.env.BINDING || 'mtls';
if (binding !== 'mtls' && binding !== 'dpop') {
  console.error(`provider.mjs: BINDING must be mtls or dpop, not ${binding}`);
  process.exit(2);
}
const mtls = binding === 'mtls';
const dpop = binding === 'dpop';
const fapi1 = process.env.FAPI === '1.0';
const encryptIdToken = fapi1 && Boolean(process.env.ENCRYPT_ID_TOKEN);

// Only public members of the client's keys go into its metadata.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
for (const key of clientJwks.keys ?? []) {
  for (const member of PRIVATE_MEMBERS) delete key[member];
}

// The provider's own signing keys (id_token), made fresh for each run.
function signingKey(alg, type, options) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomUUID()}` };
}
const providerJwks = {
  keys: [
    signingKey('ES256', 'ec', { namedCurve: 'P-256' }),
    signingKey('PS256', 'rsa', { modulusLength: 2048 }),
  ],
};

// The peer certificate of the TLS connection, as PEM (undefined when none was sent).
function peerCertificatePem(ctx) {
  const socket = ctx.socket ?? ctx.req?.socket;
  if (!socket || typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) return undefined;
  const b64 = peer.raw.toString('base64').match(/.{1,64}/g).join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

const server = https.createServer({
  cert: tlsCert,
  key: tlsKey,
  // With DPoP the client binds its tokens to its DPoP key, so no certificate is asked.
  requestCert: mtls,
  // Self-signed client certificates are accepted: certificate-bound access tokens
  // (RFC 8705 §3) only need the certificate's thumbprint, not a chain.
  rejectUnauthorized: false,
});

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `https://127.0.0.1:${server.address().port}`;

const configuration = {
  clients: [
    {
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: clientJwks,
      redirect_uris: [redirectUri],
      response_types: fapi1 ? ['code id_token', 'code'] : ['code'],
      grant_types: fapi1
        ? ['authorization_code', 'implicit', 'refresh_token', 'client_credentials']
        : ['authorization_code', 'refresh_token', 'client_credentials'],
      // The hybrid flow on a loopback redirect: a native client.
      ...(fapi1 ? { application_type: 'native', authorization_signed_response_alg: 'PS256' } : {}),
      ...(encryptIdToken
        ? { id_token_encrypted_response_alg: 'RSA-OAEP', id_token_encrypted_response_enc: 'A256GCM' }
        : {}),
      scope: 'openid',
      id_token_signed_response_alg: fapi1 ? 'PS256' : 'ES256',
      require_signed_request_object: true,
      require_pushed_authorization_requests: true,
      ...(mtls ? { tls_client_certificate_bound_access_tokens: true } : {}),
      // Every token request of this client must carry a DPoP proof.
      ...(dpop ? { dpop_bound_access_tokens: true } : {}),
    },
  ],
  jwks: providerJwks,
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub'] },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub };
      },
    };
  },
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['PS256', 'ES256'],
    requestObjectSigningAlgValues: ['PS256', 'ES256'],
    idTokenSigningAlgValues: ['PS256', 'ES256'],
    authorizationSigningAlgValues: ['PS256', 'ES256'],
    idTokenEncryptionAlgValues: ['RSA-OAEP', 'RSA-OAEP-256'],
    idTokenEncryptionEncValues: ['A256GCM'],
  },
  responseTypes: fapi1 ? ['code id_token', 'code'] : ['code'],
  pkce: { required: () => true },
  interactions: {
    url(_ctx, interaction) {
      return `/interaction/${interaction.uid}`;
    },
  },
  features: {
    devInteractions: { enabled: false },
    fapi: { enabled: true, profile: fapi1 ? '1.0 Final' : '2.0' },
    jwtResponseModes: { enabled: fapi1 },
    encryption: { enabled: encryptIdToken },
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: true,
    },
    requestObjects: {
      enabled: true,
      requireSignedRequestObject: true,
    },
    // FAPI 2.0 allows either sender constraint; each run uses one of them.
    mTLS: mtls
      ? {
        enabled: true,
        certificateBoundAccessTokens: true,
        getCertificate: peerCertificatePem,
      }
      : { enabled: false },
    dPoP: dpop
      ? {
        enabled: true,
        // Nonces (RFC 9449 §8, §9) are issued from this secret and required everywhere.
        nonceSecret: crypto.randomBytes(32),
        requireNonce: () => true,
        allowReplay: false,
      }
      : { enabled: false },
    // In the DPoP run the provider takes Open Finance Malaysia consents as rich
    // authorization requests (RFC 9396) and lists the type in its discovery: a client
    // must not send one it was not asked to.
    richAuthorizationRequests: dpop
      ? {
        enabled: true,
        types: {
          'urn:openfinance-ml:account-access-consent:v1.2': { validate() {} },
        },
        authorizationDetailsForGrantSource(ctx) {
          const given = ctx.oidc.params.authorization_details;
          return given ? JSON.parse(given) : [];
        },
        authorizationDetailsForAccessToken(_ctx, _token, source) {
          return source?.rar ?? [];
        },
        authorizationDetailsForIntrospection(_ctx, token) {
          return token.rar ?? [];
        },
      }
      : { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
};

const provider = new Provider(issuer, configuration);

provider.on('server_error', (_ctx, err) => console.error('server_error:', err));
for (const event of [
  'authorization.error',
  'pushed_authorization_request.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'userinfo.error',
]) {
  provider.on(event, (ctx, err) => {
    console.error(`${event}: ${err.name}: ${err.message}`
      + (err.error_description ? ` (${err.error_description})` : '')
      + (err.error_detail ? ` detail: ${err.error_detail}` : '')
      + (err.cause ? ` [cause: ${err.cause.message ?? err.cause}]` : ''));
  });
}
provider.on('pushed_authorization_request.success', (ctx) => console.error(`PAR ok for ${ctx.oidc.client?.clientId}`));
provider.on('grant.success', (ctx) => console.error(`token ok: ${ctx.oidc.params.grant_type}`));
// The sender constraint of each issued access token, for run.sh to compare with the
// client certificate's thumbprint (mtls) or the DPoP key's thumbprint (dpop).
for (const model of ['access_token', 'client_credentials']) {
  for (const event of ['saved', 'issued']) {
    provider.on(`${model}.${event}`, (token) => {
      console.error(`bound: ${model} x5t#S256=${token['x5t#S256'] ?? 'none'}`);
      if (dpop) console.error(`bound: ${model} jkt=${token.jkt ?? 'none'}`);
    });
  }
}

// The automatic interaction: login as alice, then grant what was asked.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;

  if (prompt.name === 'login') {
    console.error(`interaction ${details.uid}: login as alice`);
    await provider.interactionFinished(req, res, { login: { accountId: 'alice' } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }

  if (prompt.name === 'consent') {
    const accountId = session.accountId;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    const missing = prompt.details ?? {};
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    console.error(`interaction ${details.uid}: consent for ${accountId} (grant ${grantId})`);
    await provider.interactionFinished(req, res, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
    return;
  }

  res.statusCode = 400;
  res.setHeader('Content-Type', 'text/plain');
  res.end(`unexpected prompt: ${prompt.name}\n`);
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  console.error(`${req.method} ${path}`);
  if (/^\/interaction\/[^/]+$/.test(path)) {
    interaction(req, res).catch((err) => {
      console.error('interaction failed:', err);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain');
      }
      res.end(`interaction failed: ${err.message}\n`);
    });
    return;
  }
  callback(req, res);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

console.error(`binding: ${binding}`);
console.log(`issuer: ${issuer}`);
