// An OpenID Provider for ARX's tests: panva's oidc-provider (OpenID Certified), with the
// refusal cases made by re-signing the ID token it just issued (jose).
// node oidc-op.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Test control on PORT+1: GET /mode?m=<mode> (the next token responses), GET /rotate (a
// real key rotation: a new provider signs with k2 and publishes k2 and k1), GET /stats
// (how often the key set was fetched).
import { Provider } from 'oidc-provider';
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, base64url } from 'jose';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
// OP_HOST=localhost gives an issuer on another site than ARX's 127.0.0.1 (browser tests).
const issuer = `http://${process.env.OP_HOST || '127.0.0.1'}:${port}`;
const USERS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice', groups: ['arx-admins'] },
  bob: { email: 'bob@example.com', email_verified: true, name: 'Bob', groups: ['arx-reviewers'] },
  carol: { email: 'carol@example.com', email_verified: false, name: 'Carol', groups: [] },
  dave: { email: process.env.OP_DAVE_EMAIL || 'dave@example.com', email_verified: true, name: 'Dave', groups: [] },
};
let jwksFetches = 0;
async function key(kid) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}
const k1 = await key('k1'), k2 = await key('k2'), rogue = await key('rogue');
const pub = ({ d, p, q, dp, dq, qi, ...rest }) => rest;
let mode = 'normal';

function build(keys) {
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
                grant_types: ['authorization_code'], response_types: ['code'],
                token_endpoint_auth_method: 'client_secret_basic' }],
    jwks: { keys },
    pkce: { required: () => true },               // S256 only in v9
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    conformIdTokenClaims: false,                  // put scope claims (groups) in the ID token too
    features: { devInteractions: { enabled: true } }, // form at /interaction/:uid accepts any login/password
    async findAccount(ctx, sub) {
      if (!USERS[sub]) return undefined;
      return { accountId: sub, async claims() { return { sub, ...USERS[sub] }; } };
    },
    async loadExistingGrant(ctx) {                // auto-consent: no consent page
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile groups');
      await grant.save();
      return grant;
    },
  });
  provider.proxy = false;
  // Refusal cases: rewrite the ID token the real provider just issued.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'jwks') jwksFetches += 1;
    if (ctx.oidc?.route === 'jwks' && mode === 'extra_key_published') ctx.body.keys.push(pub(k2.jwk));
    if (ctx.oidc?.route !== 'token' || !ctx.body?.id_token || mode === 'normal') return;
    const claims = decodeJwt(ctx.body.id_token);
    const now = Math.floor(Date.now() / 1000);
    const sign = (c, k, kid, alg = 'RS256') => new SignJWT(c).setProtectedHeader({ alg, kid }).sign(k);
    switch (mode) {
      case 'wrong_iss': ctx.body.id_token = await sign({ ...claims, iss: 'http://127.0.0.1:1/evil' }, k1.privateKey, 'k1'); break;
      case 'wrong_aud': ctx.body.id_token = await sign({ ...claims, aud: 'someone-else' }, k1.privateKey, 'k1'); break;
      case 'extra_aud': ctx.body.id_token = await sign({ ...claims, aud: [clientId, 'someone-else'] }, k1.privateKey, 'k1'); break;
      case 'expired': ctx.body.id_token = await sign({ ...claims, iat: now - 7200, exp: now - 3600 }, k1.privateKey, 'k1'); break;
      case 'bad_nonce': ctx.body.id_token = await sign({ ...claims, nonce: 'not-the-nonce' }, k1.privateKey, 'k1'); break;
      case 'no_nonce': { const { nonce, ...c } = claims; ctx.body.id_token = await sign(c, k1.privateKey, 'k1'); break; }
      case 'bad_signature': { const [h, p, s] = ctx.body.id_token.split('.');
        const sig = base64url.decode(s); sig[0] ^= 1; ctx.body.id_token = `${h}.${p}.${base64url.encode(sig)}`; break; }
      case 'alg_none': ctx.body.id_token = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(claims))}.`; break;
      case 'hs256_secret': ctx.body.id_token = await sign(claims, new TextEncoder().encode(clientSecret), undefined, 'HS256'); break;
      case 'unknown_kid': ctx.body.id_token = await sign(claims, rogue.privateKey, 'rogue'); break;
      case 'extra_key_published': ctx.body.id_token = await sign(claims, k2.privateKey, 'k2'); break;
    }
  });
  return provider;
}

let server = build([k1.jwk]).listen(Number(port), '127.0.0.1');
// Test control (separate port+1, never part of the provider): set a mode, or rotate keys for real.
import { createServer } from 'node:http';
createServer((req, res) => {
  const u = new URL(req.url, issuer);
  if (u.pathname === '/mode') mode = u.searchParams.get('m');
  if (u.pathname === '/stats') { res.end(JSON.stringify({ jwks_fetches: jwksFetches })); return; }
  if (u.pathname === '/rotate') {               // real rotation: new provider instance signs with k2, publishes k2+k1
    // Keep-alive connections to the old instance are closed too, so nothing reaches it.
    server.close(); server.closeAllConnections();
    server = build([k2.jwk, k1.jwk]).listen(Number(port), "127.0.0.1");
  }
  res.end('ok\n');
}).listen(Number(port) + 1, '127.0.0.1');
console.log(`ready ${issuer}`);
