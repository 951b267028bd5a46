// Drives the official InPlayer JS SDK (@inplayer-org/inplayer.js, see package.json) against a running Gatehouse:
// register, sign in, read and update the account, refresh the token, sign out, and check that the signed-out
// token is refused.
//
//   node accounts.mjs <base url> <merchant uuid>
//   (or GATEHOUSE_BASE_URL and GATEHOUSE_CLIENT_ID in the environment)
//
// Prints one line per step; exits 1 on the first failure, 2 on bad arguments.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import './shims.mjs'; // browser globals the SDK needs: window, localStorage, XMLHttpRequest

const require = createRequire(import.meta.url);
const sdkVersion = require('@inplayer-org/inplayer.js/package.json').version;
// Loaded after the shims (static imports would be hoisted above them).
const InPlayer = require('@inplayer-org/inplayer.js');

const baseUrl = (process.argv[2] ?? process.env.GATEHOUSE_BASE_URL ?? '').replace(/\/+$/, '');
const clientId = process.argv[3] ?? process.env.GATEHOUSE_CLIENT_ID ?? '';
if (!baseUrl || !clientId) {
  console.error('usage: node accounts.mjs <base url> <merchant uuid>   (or GATEHOUSE_BASE_URL, GATEHOUSE_CLIENT_ID)');
  process.exit(2);
}

InPlayer.setConfig('production', { baseURL: baseUrl });

const now = () => Math.floor(Date.now() / 1000);
const describe = (error) => {
  if (error?.response) {
    const { status, data, config } = error.response;
    const request = config ? ` (${config.method?.toUpperCase()} ${config.url})` : '';
    return `HTTP ${status}${request}: ${typeof data === 'string' ? data : JSON.stringify(data)}`;
  }
  const cause = error?.request?.networkError; // set by the XMLHttpRequest shim
  return (error?.stack ?? String(error)) + (cause ? `\ncaused by: ${cause.cause?.message ?? cause.message}` : '');
};

let stepNumber = 0;
async function step(name, run) {
  stepNumber++;
  try {
    const detail = await run();
    console.log(`ok ${stepNumber} - ${name}${detail ? ` (${detail})` : ''}`);
  } catch (error) {
    console.log(`not ok ${stepNumber} - ${name}`);
    console.error(describe(error));
    process.exit(1);
  }
}

/** What a token answer must hold for the SDK to use it: expires is absolute Unix seconds, in the future. */
function assertTokenResponse(data, email) {
  assert.equal(typeof data.access_token, 'string', 'access_token is a string');
  assert.ok(data.access_token.length > 0, 'access_token is not empty');
  assert.equal(typeof data.refresh_token, 'string', 'refresh_token is a string');
  assert.ok(data.refresh_token.length > 0, 'refresh_token is not empty');
  assert.equal(typeof data.expires, 'number', 'expires is a number');
  assert.ok(data.expires > now() + 60, `expires (${data.expires}) is absolute Unix seconds in the future (now ${now()})`);
  assert.ok(data.expires < now() + 366 * 24 * 3600, `expires (${data.expires}) is in seconds, not milliseconds`);
  assert.equal(data.account?.email, email, 'account.email');
  assert.equal(data.account?.merchant_uuid, clientId, 'account.merchant_uuid is the client_id');
}

const email = `sdk-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@mail.test`;
const password = 'sdk-password-1';
let accountId;
let signedInToken;
let refreshedToken;

console.log(`# InPlayer JS SDK ${sdkVersion} against ${baseUrl}, client_id ${clientId}`);

await step('Account.signUp registers a consumer and stores its token', async () => {
  const response = await InPlayer.Account.signUp({
    fullName: 'Sdk Viewer', email, password, passwordConfirmation: password, type: 'consumer',
    clientId, referrer: 'https://tv.example/watch', metadata: { country: 'MK' },
  });
  assert.ok([200, 201].includes(response.status), `status ${response.status}`);
  assertTokenResponse(response.data, email);
  assert.equal(response.data.account.full_name, 'Sdk Viewer');
  assert.equal(response.data.account.metadata?.country, 'MK', 'metadata[country] came through');
  assert.ok(response.data.account.roles?.includes('consumer'), 'roles include consumer');
  accountId = response.data.account.id;
  assert.equal(InPlayer.Account.getToken().token, response.data.access_token, 'the SDK stored the access token');
  assert.equal(InPlayer.Account.isAuthenticated(), true, 'the SDK considers the stored token valid (expires not passed)');
  return `account ${accountId}, HTTP ${response.status}`;
});

await step('Account.removeToken forgets the registration token (a fresh device)', async () => {
  await InPlayer.Account.removeToken();
  assert.equal(InPlayer.Account.isAuthenticated(), false);
});

await step('Account.signIn with email and password', async () => {
  const response = await InPlayer.Account.signIn({ email, password, clientId, referrer: 'https://tv.example/watch' });
  assert.equal(response.status, 200);
  assertTokenResponse(response.data, email);
  assert.equal(response.data.account.id, accountId, 'the same account');
  signedInToken = InPlayer.Account.getToken();
  assert.equal(signedInToken.token, response.data.access_token, 'the SDK stored the access token');
  assert.equal(signedInToken.refreshToken, response.data.refresh_token, 'the SDK stored the refresh token');
  assert.equal(signedInToken.expires, response.data.expires, 'the SDK stored expires');
  assert.equal(InPlayer.Account.isAuthenticated(), true, 'the SDK considers the token valid');
});

await step('Account.getAccountInfo reads the account', async () => {
  const response = await InPlayer.Account.getAccountInfo();
  assert.equal(response.status, 200);
  const account = response.data;
  assert.equal(account.id, accountId);
  assert.equal(account.email, email);
  assert.equal(account.full_name, 'Sdk Viewer');
  assert.equal(account.referrer, 'https://tv.example/watch');
  assert.equal(account.metadata?.country, 'MK');
  assert.equal(account.merchant_uuid, clientId);
  assert.equal(typeof account.uuid, 'string');
  assert.ok(Array.isArray(account.roles) && account.roles.includes('consumer'), 'roles include consumer');
  assert.equal(typeof account.completed, 'boolean');
  for (const field of ['created_at', 'updated_at']) {
    assert.equal(typeof account[field], 'number', `${field} is a number`);
    assert.ok(Math.abs(account[field] - now()) < 3600, `${field} (${account[field]}) is Unix seconds of about now`);
  }
});

await step('Account.updateAccount changes full name and metadata', async () => {
  const response = await InPlayer.Account.updateAccount({ fullName: 'Sdk Viewer Renamed', metadata: { plan: 'gold' } });
  assert.equal(response.status, 200);
  assert.equal(response.data.id, accountId);
  assert.equal(response.data.full_name, 'Sdk Viewer Renamed');
  assert.equal(response.data.metadata?.plan, 'gold');
  const again = await InPlayer.Account.getAccountInfo();
  assert.equal(again.data.full_name, 'Sdk Viewer Renamed', 'the change is stored');
  assert.equal(again.data.metadata?.plan, 'gold', 'the metadata change is stored');
});

await step('Account.refreshToken renews the token; Account.setToken stores it', async () => {
  const response = await InPlayer.Account.refreshToken(clientId);
  assert.equal(response.status, 200);
  assertTokenResponse(response.data, email);
  assert.equal(response.data.account.id, accountId);
  assert.notEqual(response.data.access_token, signedInToken.token, 'a new access token');
  assert.notEqual(response.data.refresh_token, signedInToken.refreshToken, 'a new refresh token');
  // refreshToken() only answers; the app stores the new credentials itself.
  await InPlayer.Account.setToken(response.data.access_token, response.data.refresh_token, response.data.expires);
  refreshedToken = InPlayer.Account.getToken();
  assert.equal(refreshedToken.token, response.data.access_token);
  assert.equal(InPlayer.Account.isAuthenticated(), true);
  const info = await InPlayer.Account.getAccountInfo();
  assert.equal(info.status, 200, 'the new token works');
  assert.equal(info.data.id, accountId);
});

await step('Account.signOut ends the session and forgets the token', async () => {
  const response = await InPlayer.Account.signOut();
  assert.equal(response.status, 200);
  assert.equal(InPlayer.Account.isAuthenticated(), false, 'the SDK no longer holds a valid token');
  assert.equal(InPlayer.Account.getToken().token, '', 'the stored token is gone');
});

await step('the signed-out tokens are refused: GET /accounts answers 401', async () => {
  const statuses = [];
  for (const [label, token] of [['refreshed', refreshedToken.token], ['signed-in', signedInToken.token]]) {
    const res = await fetch(`${baseUrl}/accounts`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
    const text = await res.text();
    assert.equal(res.status, 401, `${label} access token after sign-out: HTTP ${res.status} ${text}`);
    statuses.push(`${label} ${res.status}`);
  }
  return statuses.join(', ');
});

console.log(`# all ${stepNumber} steps passed`);
