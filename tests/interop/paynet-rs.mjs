// An independent PayNet-style resource server for the interop test, written from PayNet's
// published pages (the Ozone sandbox guide "09 Accessing account data" and PayNet's DC/DP
// specification, as summarised in shared/reference/messages.md §1), with panva's `jose`
// library, not from token-inspector's sandbox code:
//   - every data call carries `x-signature`: a compact JWS (iss = dc_id, aud [dp_id,
//     "Paynet OFP"], nbf, exp <= iat + 300, jti, qpm, url) or a detached JWS over the body
//     (protected iss, jti, iat, crit), verified with the client's public JWK Set;
//   - every answer is three layers: a JWS signed by the hub whose `data` is a JWE
//     (RSA-OAEP-256, A256GCM, cty JWT) to the client's encryption key, holding a JWT signed
//     by the data provider whose `data` is the JSON.
// Env: PORT (0: any), CLIENT_JWKS (file: the client's public keys, one with use "enc"),
// DC_ID, DP_ID, ACCESS_TOKEN (the one bearer token it accepts).
// Paths under /tampered/v1/... answer with the hub's signature altered.
// Prints "listening PORT" once it listens.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';

const { PORT = '0', CLIENT_JWKS, DC_ID, DP_ID, ACCESS_TOKEN } = process.env;
const clientJwks = JSON.parse(readFileSync(CLIENT_JWKS, 'utf8'));
const clientKeys = jose.createLocalJWKSet(clientJwks);
const encJwk = clientJwks.keys.find((k) => k.use === 'enc');
const encKey = await jose.importJWK({ ...encJwk, alg: 'RSA-OAEP-256' }, 'RSA-OAEP-256');

const hub = await jose.generateKeyPair('PS256', { extractable: true });
const provider = await jose.generateKeyPair('PS256', { extractable: true });
const publicJwks = {
  keys: [
    { ...(await jose.exportJWK(hub.publicKey)), kid: 'hub-1', use: 'sig', alg: 'PS256' },
    { ...(await jose.exportJWK(provider.publicKey)), kid: 'dp-1', use: 'sig', alg: 'PS256' },
  ],
};

const ACCOUNTS = [
  { account_id: 'acc-1', account_name: 'Everyday Savings', currency: 'MYR' },
  { account_id: 'acc-2', account_name: 'Current Account', currency: 'MYR' },
];
const TRANSACTIONS = Array.from({ length: 5 }, (_, i) => ({
  transaction_id: `t-${i + 1}`,
  amount: { amount: `${(i + 1) * 11}.50`, currency: 'MYR' },
  credit_debit_indicator: i % 2 ? 'debit' : 'credit',
}));

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

// Throws with the claim that is wrong.
async function checkSignature(req, url, body) {
  const value = req.headers['x-signature'];
  if (!value) throw new Error('x-signature missing');
  const now = Math.floor(Date.now() / 1000);
  if (value.includes('..')) {
    const [protectedHeader, , signature] = value.split('.');
    const { protectedHeader: h } = await jose.flattenedVerify(
      { protected: protectedHeader, payload: jose.base64url.encode(body), signature },
      clientKeys,
      { crit: { iss: true, jti: true, iat: true } },
    );
    if (h.iss !== DC_ID) throw new Error(`iss ${h.iss} is not ${DC_ID}`);
    if (!h.jti) throw new Error('jti missing');
    if (Math.abs(now - h.iat) > 300) throw new Error('iat outside 5 minutes');
    return 'detached';
  }
  const { payload } = await jose.jwtVerify(value, clientKeys, {
    issuer: DC_ID,
    audience: DP_ID,
    requiredClaims: ['iat', 'nbf', 'exp', 'jti', 'url', 'qpm'],
  });
  if (!payload.aud.includes('Paynet OFP')) throw new Error('aud lacks "Paynet OFP"');
  if (payload.exp - payload.iat > 300) throw new Error('exp more than 300 s after iat');
  const base = `${url.origin}${url.pathname}`;
  if (payload.url !== base) throw new Error(`url ${payload.url} is not ${base}`);
  const query = Object.fromEntries(url.searchParams.entries());
  if (JSON.stringify(payload.qpm) !== JSON.stringify(query)) {
    throw new Error(`qpm ${JSON.stringify(payload.qpm)} is not ${JSON.stringify(query)}`);
  }
  return 'compact';
}

async function layered(data, tampered) {
  const inner = await new jose.SignJWT({ data })
    .setProtectedHeader({ alg: 'PS256', kid: 'dp-1' })
    .setIssuer(DP_ID).setAudience(DC_ID).setIssuedAt().setExpirationTime('5m')
    .sign(provider.privateKey);
  const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(inner))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: encJwk.kid })
    .encrypt(encKey);
  const outer = await new jose.SignJWT({ data: jwe })
    .setProtectedHeader({ alg: 'PS256', kid: 'hub-1' })
    .setIssuer('Paynet OFP').setAudience(DC_ID).setIssuedAt().setNotBefore('0s')
    .setJti(randomUUID()).setExpirationTime('5m')
    .sign(hub.privateKey);
  if (!tampered) return outer;
  const [h, p, s] = outer.split('.');
  return `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
}

function answer(path, url) {
  if (path === '/v1/accounts') return { data: { accounts: ACCOUNTS } };
  let m = path.match(/^\/v1\/accounts\/([^/]+)\/balances$/);
  if (m) {
    const account = ACCOUNTS.find((a) => a.account_id === m[1]);
    return account && { data: { account_id: account.account_id, balances: [{ amount: '1234.56', currency: 'MYR', type: 'available' }] } };
  }
  m = path.match(/^\/v1\/accounts\/([^/]+)\/transactions$/);
  if (m) {
    const size = Number(url.searchParams.get('page_size') || 2);
    const start = Number(url.searchParams.get('next_page_params') || 0);
    const page = TRANSACTIONS.slice(start, start + size);
    const next = start + size < TRANSACTIONS.length ? String(start + size) : null;
    return { data: { account_id: m[1], transactions: page, next_page_params: next } };
  }
  return undefined;
}

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname === '/jwks') return send(res, 200, publicJwks);
  const tampered = url.pathname.startsWith('/tampered/');
  const path = tampered ? url.pathname.slice('/tampered'.length) : url.pathname;
  if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
    return send(res, 401, { error: 'invalid_token' });
  }
  let format;
  try {
    format = await checkSignature(req, url, body);
  } catch (e) {
    return send(res, 401, { error: 'invalid_signature', error_description: `x-signature: ${e.message}` });
  }
  const data = answer(path, url);
  if (!data) return send(res, 404, { error: 'not_found' });
  console.error(`${req.method} ${url.pathname} x-signature ${format}: 200`);
  return send(res, 200, await layered(data, tampered), 'application/jose');
});
server.listen(Number(PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
