// Drives the asset calls of the official InPlayer JS SDK (@inplayer-org/inplayer.js, see package.json) against a
// running Gatehouse. The merchant's data is set up with plain fetch and the merchant's token (client_credentials):
// an asset with content and a ppv price, a package holding it with its own price, a registered viewer. Then, with
// the SDK: read the asset (without its content), its price options, the package and its assets; sign the viewer in;
// the access check is refused with HTTP 402; a merchant grant (POST /items/access) opens the asset, content
// included; a revoke (POST /v2/access/{id}/revoke) closes it again; a pass for the package opens the asset too.
//
//   node assets.mjs <base url> <merchant uuid> <merchant client secret>
//   (or GATEHOUSE_BASE_URL, GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET in the environment)
//
// Prints one line per step; exits 1 on the first failure (with the status and body of the HTTP answer at fault),
// 2 on bad arguments.

import assert from 'node:assert/strict';
import { harness, sdkVersion, show } from './harness.mjs';

const { baseUrl, merchantUuid, clientSecret, InPlayer, sdk, sdkRefusal, api, step, done } = harness(process.argv, 'assets.mjs');
const now = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------------------------

const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const title = `Sdk Final ${suffix}`;
const content = `<iframe src="https://cdn.example/${suffix}/secret.m3u8"></iframe>`;
const packageTitle = `Sdk Season Pass ${suffix}`;
const email = `sdk-assets-${suffix}@mail.test`;
const password = 'sdk-password-1';

let merchantToken;
let itemId;
let feeId;
let packageId;
let packageFeeId;
let consumerId;

/** Asserts the parts of InPlayer's Item the SDK's ItemDetailsV1 promises, and that the content is not there. */
function assertPublicItem(item) {
  assert.equal(item.id, itemId, 'id');
  assert.equal(item.title, title, 'title');
  assert.equal(item.merchant_uuid, merchantUuid, 'merchant_uuid');
  assert.equal(typeof item.merchant_id, 'number', 'merchant_id is a number');
  assert.equal(item.is_active, true, 'is_active');
  assert.equal(item.item_type?.content_type, 'video', 'item_type.content_type');
  assert.equal(typeof item.item_type?.name, 'string', 'item_type.name');
  assert.equal(item.metadata?.league, 'premier', 'metadata.league');
  for (const field of ['created_at', 'updated_at']) {
    assert.equal(typeof item[field], 'number', `${field} is a number`);
    assert.ok(Math.abs(item[field] - now()) < 3600, `${field} (${item[field]}) is Unix seconds of about now`);
  }
  assert.ok(!('content' in item), `a public read leaves the content out (got content: ${show(item.content)})`);
  assert.ok(!JSON.stringify(item).includes('secret.m3u8'), 'the content is nowhere in a public read');
}

/** Asserts the asset's ppv price option as InPlayer's AccessFee. */
function assertPpvFee(fee) {
  assert.equal(fee.id, feeId, 'id');
  assert.equal(fee.amount, 4.99, 'amount is the number 4.99');
  assert.equal(fee.currency, 'EUR', 'currency');
  assert.equal(fee.description, 'Two days', 'description');
  assert.equal(fee.access_type?.name, 'ppv', 'access_type.name');
  assert.equal(fee.access_type?.quantity, 2, 'access_type.quantity');
  assert.equal(fee.access_type?.period, 'day', 'access_type.period');
  assert.equal(fee.item?.id, itemId, 'item.id');
  assert.equal(fee.trial_period ?? null, null, 'no trial period');
}

console.log(`# InPlayer JS SDK ${sdkVersion} against ${baseUrl}, merchant ${merchantUuid}`);

// Set-up with plain fetch: what a merchant's back end does.

await step('setup: the merchant signs in with client_credentials', async () => {
  const data = await api('POST', '/accounts/authenticate', {
    form: { grant_type: 'client_credentials', client_id: merchantUuid, client_secret: clientSecret },
  });
  assert.equal(typeof data.access_token, 'string');
  merchantToken = data.access_token;
});

await step('setup: POST /v2/items creates a video asset with content', async () => {
  const item = await api('POST', '/v2/items', {
    token: merchantToken, expect: 201,
    form: { title, item_type: 'video', content, 'metadata[league]': 'premier' },
  });
  itemId = item.id;
  assert.equal(typeof itemId, 'number');
  assert.equal(item.content, content, 'the merchant sees the content');
  return `item ${itemId}`;
});

await step('setup: POST /v2/items/{id}/access-fees prices it: ppv, 4.99 EUR for 2 days', async () => {
  const fee = await api('POST', `/v2/items/${itemId}/access-fees`, {
    token: merchantToken, expect: 201,
    form: { access_type: 'ppv', amount: '4.99', currency: 'eur', quantity: 2, period: 'day', description: 'Two days' },
  });
  feeId = fee.id;
  return `access fee ${feeId}`;
});

await step('setup: POST /v2/items/packages and /items put it in a package', async () => {
  const created = await api('POST', '/v2/items/packages', { token: merchantToken, expect: 201, form: { title: packageTitle } });
  packageId = created.id;
  const updated = await api('POST', `/v2/items/packages/${packageId}/items`, { token: merchantToken, form: { item_id: itemId } });
  assert.equal(updated.items, 1, 'the package holds one asset');
  return `package ${packageId}`;
});

await step('setup: POST /v2/items/packages/{id}/access-fees prices the package: subscription, 19.99 EUR a month', async () => {
  const fee = await api('POST', `/v2/items/packages/${packageId}/access-fees`, {
    token: merchantToken, expect: 201,
    form: { access_type: 'subscription', amount: '19.99', currency: 'EUR', quantity: 1, period: 'month', description: 'Season' },
  });
  packageFeeId = fee.id;
  return `access fee ${packageFeeId}`;
});

await step('setup: POST /accounts registers a viewer', async () => {
  const data = await api('POST', '/accounts', {
    expect: 201,
    form: { full_name: 'Sdk Asset Viewer', username: email, password, password_confirmation: password, client_id: merchantUuid, type: 'consumer' },
  });
  consumerId = data.account.id;
  assert.equal(typeof consumerId, 'number');
  return `consumer ${consumerId}`;
});

// The SDK: what a viewer's app does.

await step('Asset.getAsset(id, merchantUuid) reads the asset without its content, with its price', async () => {
  const response = await sdk(() => InPlayer.Asset.getAsset(itemId, merchantUuid));
  assert.equal(response.status, 200);
  assertPublicItem(response.data);
  assert.ok(Array.isArray(response.data.access_fees), 'access_fees is an array');
  assert.equal(response.data.access_fees.length, 1, 'one price option');
  assertPpvFee(response.data.access_fees[0]);
  return `GET ${response.config.url}`;
});

await step('Asset.getAsset(id) without a merchant reads the same asset', async () => {
  const response = await sdk(() => InPlayer.Asset.getAsset(itemId));
  assert.equal(response.status, 200);
  assertPublicItem(response.data);
  return `GET ${response.config.url}`;
});

await step('Asset.getAssetAccessFees lists the ppv price option', async () => {
  const response = await sdk(() => InPlayer.Asset.getAssetAccessFees(itemId));
  assert.equal(response.status, 200);
  assert.ok(Array.isArray(response.data), 'an array of AccessFee');
  assert.equal(response.data.length, 1, 'one price option');
  assertPpvFee(response.data[0]);
  return `GET ${response.config.url}`;
});

await step('Asset.getPackage reads the package with its own price', async () => {
  const response = await sdk(() => InPlayer.Asset.getPackage(packageId));
  assert.equal(response.status, 200);
  const pkg = response.data;
  assert.equal(pkg.id, packageId, 'id');
  assert.equal(pkg.title, packageTitle, 'title');
  assert.equal(pkg.is_active, true, 'is_active');
  assert.equal(typeof pkg.merchant_id, 'number', 'merchant_id is a number');
  assert.equal(pkg.items, 1, 'items is the number of assets in it');
  assert.equal(typeof pkg.item_type?.name, 'string', 'item_type.name');
  assert.equal(typeof pkg.metadata, 'object', 'metadata is an object');
  const fees = pkg.access_fees ?? [];
  assert.deepEqual(fees.map((f) => f.id), [packageFeeId], 'the package\'s own price option, not the asset\'s');
  assert.equal(fees[0].access_type?.name, 'subscription');
  assert.equal(fees[0].amount, 19.99);
  assert.equal(fees[0].access_type?.period, 'month');
  return `GET ${response.config.url}`;
});

await step('Asset.getAssetsInPackage lists the asset, without its content', async () => {
  const response = await sdk(() => InPlayer.Asset.getAssetsInPackage(packageId));
  assert.equal(response.status, 200);
  const page = response.data;
  assert.equal(page.total, 1, 'total');
  for (const field of ['page', 'offset', 'limit']) assert.equal(typeof page[field], 'number', `${field} is a number`);
  assert.ok(Array.isArray(page.collection), 'collection is an array');
  assert.equal(page.collection.length, 1);
  assertPublicItem(page.collection[0]);
  return `GET ${response.config.url}`;
});

await step('Account.signIn signs the viewer in', async () => {
  const response = await sdk(() => InPlayer.Account.signIn({ email, password, clientId: merchantUuid, referrer: 'https://tv.example/watch' }));
  assert.equal(response.status, 200);
  assert.equal(response.data.account?.id, consumerId, 'the registered viewer');
  assert.equal(InPlayer.Account.isAuthenticated(), true, 'the SDK holds a valid token');
});

/** Asserts that the SDK's access check is refused the InPlayer way: HTTP 402 with an error body. */
async function assertNoAccess() {
  const refusal = await sdkRefusal(() => InPlayer.Asset.checkAccessForAsset(itemId));
  assert.equal(refusal.status, 402, `no access is HTTP 402 (got ${refusal.status}: ${show(refusal.data)})`);
  assert.equal(refusal.data?.code, 402, 'the error body\'s code');
  assert.equal(typeof refusal.data?.message, 'string', 'the error body\'s message');
  assert.ok(!JSON.stringify(refusal.data).includes('secret.m3u8'), 'no content in the refusal');
  assert.equal(InPlayer.Account.isAuthenticated(), true, 'a 402 leaves the viewer signed in');
  return `HTTP ${refusal.status}: ${refusal.data.message}`;
}

/** Asserts that the SDK's access check opens the asset: the item-access object with item.content. */
async function assertAccess(expiresAt, through) {
  const response = await sdk(() => InPlayer.Asset.checkAccessForAsset(itemId));
  assert.equal(response.status, 200);
  const access = response.data;
  assert.equal(typeof access.id, 'number', 'id');
  assert.equal(access.customer_id, consumerId, 'customer_id');
  assert.equal(access.account_id, consumerId, 'account_id');
  assert.equal(typeof access.customer_uuid, 'string', 'customer_uuid');
  for (const field of ['created_at', 'starts_at', 'expires_at']) assert.equal(typeof access[field], 'number', `${field} is a number`);
  assert.equal(access.expires_at, expiresAt, 'expires_at is the granted expiry, in Unix seconds');
  assert.ok(access.starts_at <= now() + 60, 'starts_at is not in the future');
  assert.equal(access.item?.id, itemId, 'item.id');
  assert.equal(access.item?.title, title, 'item.title');
  assert.equal(access.item?.merchant_uuid, merchantUuid, 'item.merchant_uuid');
  assert.equal(access.item?.content, content, 'item.content is the protected content');
  return `pass ${access.id} through ${through}, item.content ${access.item.content.length} characters`;
}

await step('Asset.checkAccessForAsset without a pass: refused with HTTP 402', assertNoAccess);

let itemPassId;
const itemExpiresAt = now() + 2 * 24 * 3600;

await step('setup: POST /items/access grants the viewer the asset (merchant token)', async () => {
  const pass = await api('POST', '/items/access', {
    token: merchantToken, expect: 201,
    form: { consumer_id: consumerId, item_id: itemId, expires_at: new Date(itemExpiresAt * 1000).toISOString() },
  });
  itemPassId = pass.item_access_id;
  assert.equal(typeof itemPassId, 'number', 'item_access_id');
  assert.equal(pass.expires_at, itemExpiresAt, 'expires_at');
  return `item_access_id ${itemPassId}`;
});

await step('Asset.checkAccessForAsset with the pass: granted, with item.content', () => assertAccess(itemExpiresAt, `item pass ${itemPassId}`));

await step('setup: POST /v2/access/{id}/revoke revokes the pass (merchant token)', async () => {
  const pass = await api('POST', `/v2/access/${itemPassId}/revoke`, { token: merchantToken });
  assert.equal(pass.item_access_id, itemPassId);
  assert.equal(pass.revoked, true, 'revoked');
});

await step('Asset.checkAccessForAsset after the revoke: refused with HTTP 402 again', assertNoAccess);

let packagePassId;
const packageExpiresAt = now() + 30 * 24 * 3600;

await step('setup: POST /items/access grants the viewer the package (package_id)', async () => {
  const pass = await api('POST', '/items/access', {
    token: merchantToken, expect: 201,
    form: { consumer_id: consumerId, package_id: packageId, expires_at: new Date(packageExpiresAt * 1000).toISOString() },
  });
  packagePassId = pass.item_access_id;
  assert.equal(typeof packagePassId, 'number', 'item_access_id');
  return `item_access_id ${packagePassId}`;
});

await step('Asset.checkAccessForAsset with the package pass: the asset in it is granted, with item.content',
  () => assertAccess(packageExpiresAt, `package pass ${packagePassId}`));

await step('setup: POST /v2/access/{id}/revoke revokes the package pass', async () => {
  const pass = await api('POST', `/v2/access/${packagePassId}/revoke`, { token: merchantToken });
  assert.equal(pass.revoked, true, 'revoked');
});

await step('Asset.checkAccessForAsset after the package revoke: refused with HTTP 402', assertNoAccess);

done();
