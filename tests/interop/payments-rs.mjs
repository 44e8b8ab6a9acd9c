// An independent payments server for the interop test, written from the UK and UAE
// published pages (as summarised in shared/reference/messages.md §2 and §3) with panva's
// `jose` library, not from token-inspector's code:
//   UK Open Banking (an ASPSP):
//     POST /open-banking/v3.1/pisp/domestic-payments   (v3.1.2: b64 false, named in crit)
//     POST /open-banking/v4.0/pisp/domestic-payments   (from 3.1.4: b64 absent)
//     each verifies the request's x-jws-signature over the raw body (the three
//     http://openbanking.org.uk/ parameters critical; iss ORG/SSA, tan openbanking.org.uk)
//     and signs its answer with its own x-jws-signature in the same style.
//   UAE Open Finance (an LFI):
//     POST /open-finance/payment/v2.2/payments
//     the body a JWT (application/jwt) signed by the client: iss the client, aud the issuer,
//     exp at most 5 minutes after iat, the payment under `message`; its
//     PersonalIdentifiableInformation a JWE to this LFI's use:enc key (RSA-OAEP-256 or
//     RSA-OAEP, A256GCM) holding a JWT signed by the client (iss = sub = client);
//     x-idempotency-key required (<= 40 characters): the same key answers the same payment;
//     x-fapi-customer-ip-address and x-fapi-auth-date checked when sent. The answer is a
//     JWT signed by the LFI (application/jwt).
// Paths under /tampered/... answer with the body changed after signing.
// Env: PORT (0: any), CLIENT_JWKS (the client's public keys), OB_ISS, CLIENT_ID, ISSUER,
// ACCESS_TOKEN. Prints "listening PORT" once it listens.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';

const { PORT = '0', CLIENT_JWKS, OB_ISS, CLIENT_ID, ISSUER, ACCESS_TOKEN } = process.env;
const clientKeys = jose.createLocalJWKSet(JSON.parse(readFileSync(CLIENT_JWKS, 'utf8')));
const OB = 'http://openbanking.org.uk/';
const OB_CRIT = { [`${OB}iat`]: true, [`${OB}iss`]: true, [`${OB}tan`]: true };

const aspsp = await jose.generateKeyPair('PS256', { extractable: true });
const lfi = await jose.generateKeyPair('PS256', { extractable: true });
const lfiEnc = await jose.generateKeyPair('RSA-OAEP-256', { extractable: true });
const publicJwks = {
  keys: [
    { ...(await jose.exportJWK(aspsp.publicKey)), kid: 'aspsp-1', use: 'sig', alg: 'PS256' },
    { ...(await jose.exportJWK(lfi.publicKey)), kid: 'lfi-sig-1', use: 'sig', alg: 'PS256' },
    { ...(await jose.exportJWK(lfiEnc.publicKey)), kid: 'lfi-enc-1', use: 'enc' },
  ],
};
// The LFI's private key for both key managements the two UAE documents name.
const lfiEncPkcs8 = await jose.exportPKCS8(lfiEnc.privateKey);
const decryptKeys = {
  'RSA-OAEP-256': lfiEnc.privateKey,
  'RSA-OAEP': await jose.importPKCS8(lfiEncPkcs8, 'RSA-OAEP'),
};

function send(res, status, body, headers = {}) {
  const type = typeof body === 'string' ? 'application/jwt' : 'application/json';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

// UK: throws naming what is wrong.
async function checkJwsSignature(req, body, unencoded) {
  const value = req.headers['x-jws-signature'];
  if (!value) throw new Error('x-jws-signature missing');
  const [protectedHeader, payload, signature] = value.split('.');
  if (payload !== '') throw new Error('the JWS is not detached');
  const header = JSON.parse(Buffer.from(protectedHeader, 'base64url').toString());
  if (unencoded && header.b64 !== false) throw new Error('b64 must be false for v3.1.2');
  if (!unencoded && 'b64' in header) throw new Error('b64 must be absent from v3.1.4');
  const { protectedHeader: h } = await jose.flattenedVerify(
    {
      protected: protectedHeader,
      payload: unencoded ? body.toString('utf8') : jose.base64url.encode(body),
      signature,
    },
    clientKeys,
    { crit: OB_CRIT },
  );
  if (h[`${OB}iss`] !== OB_ISS) throw new Error(`${OB}iss ${h[`${OB}iss`]} is not ${OB_ISS}`);
  if (h[`${OB}tan`] !== 'openbanking.org.uk') throw new Error(`${OB}tan is not openbanking.org.uk`);
  if (Math.abs(Date.now() / 1000 - h[`${OB}iat`]) > 300) throw new Error(`${OB}iat is stale`);
}

async function ukAnswer(res, payment, unencoded, tampered) {
  const body = JSON.stringify({
    Data: { DomesticPaymentId: randomUUID(), Status: 'AcceptedSettlementInProcess', Initiation: payment.Data.Initiation },
    Links: { Self: 'https://aspsp.example/domestic-payments/1' },
  });
  const header = {
    alg: 'PS256', kid: 'aspsp-1', typ: 'JOSE', cty: 'application/json',
    [`${OB}iat`]: Math.floor(Date.now() / 1000), [`${OB}iss`]: 'aspsp-org-1', [`${OB}tan`]: 'openbanking.org.uk',
    crit: [`${OB}iat`, `${OB}iss`, `${OB}tan`],
  };
  if (unencoded) {
    header.b64 = false;
    header.crit.unshift('b64');
  }
  const jws = await new jose.FlattenedSign(new TextEncoder().encode(body))
    .setProtectedHeader(header)
    .sign(aspsp.privateKey, { crit: OB_CRIT });
  const sent = tampered ? body.replace('AcceptedSettlementInProcess', 'AcceptedSettlementCompleted') : body;
  res.writeHead(201, { 'content-type': 'application/json', 'x-jws-signature': `${jws.protected}..${jws.signature}` });
  res.end(sent);
}

// UAE: throws naming what is wrong; returns the payment and the creditor read from the PII.
async function openUaePayment(req, body) {
  if (!(req.headers['content-type'] || '').startsWith('application/jwt')) throw new Error('the body must be application/jwt');
  const key = req.headers['x-idempotency-key'];
  if (!key || key.length > 40) throw new Error('x-idempotency-key missing or over 40 characters');
  const ip = req.headers['x-fapi-customer-ip-address'];
  if (ip !== undefined && !/^[0-9a-fA-F:.]+$/.test(ip)) throw new Error('x-fapi-customer-ip-address is not an address');
  const authDate = req.headers['x-fapi-auth-date'];
  if (authDate !== undefined && Number.isNaN(Date.parse(authDate))) throw new Error('x-fapi-auth-date is not a date');
  const { payload } = await jose.jwtVerify(body.toString('utf8'), clientKeys, {
    issuer: CLIENT_ID, audience: ISSUER, requiredClaims: ['iat', 'exp'], algorithms: ['PS256'],
  });
  if (payload.exp - payload.iat > 300) throw new Error('exp more than 5 minutes after iat');
  const data = payload.message && payload.message.Data;
  if (!data) throw new Error('no message.Data');
  const jwe = data.PersonalIdentifiableInformation;
  if (typeof jwe !== 'string') throw new Error('PersonalIdentifiableInformation is not a JWE');
  const alg = JSON.parse(Buffer.from(jwe.split('.')[0], 'base64url').toString()).alg;
  if (!decryptKeys[alg]) throw new Error(`PII alg ${alg} is neither RSA-OAEP-256 nor RSA-OAEP`);
  const { plaintext } = await jose.compactDecrypt(jwe, decryptKeys[alg]);
  const { payload: pii } = await jose.jwtVerify(new TextDecoder().decode(plaintext), clientKeys, {
    issuer: CLIENT_ID, subject: CLIENT_ID, audience: ISSUER, requiredClaims: ['exp', 'jti'],
  });
  return { key, data, pii, alg };
}

const payments = new Map();
async function uaeAnswer(res, opened, tampered) {
  const { key, data, pii, alg } = opened;
  let paymentId = payments.get(key);
  if (!paymentId) {
    paymentId = randomUUID();
    payments.set(key, paymentId);
  }
  const answer = {
    message: {
      Data: {
        PaymentId: paymentId, ConsentId: data.ConsentId, Status: 'Pending',
        Instruction: data.Instruction, CreditorName: pii.Initiation.CreditorAccount.Name.en, PiiAlg: alg,
      },
    },
  };
  const jwt = await new jose.SignJWT(answer)
    .setProtectedHeader({ alg: 'PS256', kid: 'lfi-sig-1', typ: 'JWT' })
    .setIssuer(ISSUER).setAudience(CLIENT_ID).setIssuedAt().setExpirationTime('5m')
    .sign(lfi.privateKey);
  if (!tampered) return send(res, 201, jwt);
  const [h, , s] = jwt.split('.');
  answer.message.Data.Status = 'AcceptedSettlementCompleted';
  return send(res, 201, `${h}.${jose.base64url.encode(JSON.stringify(answer))}.${s}`);
}

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname === '/jwks') return send(res, 200, publicJwks);
  const tampered = url.pathname.startsWith('/tampered/');
  const path = tampered ? url.pathname.slice('/tampered'.length) : url.pathname;
  if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) return send(res, 401, { error: 'invalid_token' });
  const uk = path.match(/^\/open-banking\/v(3\.1|4\.0)\/pisp\/domestic-payments$/);
  try {
    if (uk && req.method === 'POST') {
      const unencoded = uk[1] === '3.1';
      await checkJwsSignature(req, body, unencoded);
      console.error(`UK ${path}: signature valid`);
      return await ukAnswer(res, JSON.parse(body.toString('utf8')), unencoded, tampered);
    }
    if (path === '/open-finance/payment/v2.2/payments' && req.method === 'POST') {
      const opened = await openUaePayment(req, body);
      console.error(`UAE ${path}: signed body valid, PII ${opened.alg} opened`);
      return await uaeAnswer(res, opened, tampered);
    }
  } catch (e) {
    console.error(`${path}: refused: ${e.message}`);
    const error = uk ? { Code: '400', Message: e.message } : { errorCode: 'Body.InvalidFormat', errorMessage: e.message };
    return send(res, 400, error);
  }
  return send(res, 404, { error: 'not_found' });
});
server.listen(Number(PORT), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
