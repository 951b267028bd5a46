// Drives the payment and subscription calls of the official InPlayer JS SDK (@inplayer-org/inplayer.js, see
// package.json) against a running Gatehouse with its built-in test gateway. The merchant sets up, with plain fetch,
// three assets: a match sold pay-per-view (4.99 EUR for 2 days), a channel sold by subscription (9.99 EUR a month)
// and a replay sold pay-per-view (10.00 EUR), plus a 50 % voucher. Then, with the SDK, a viewer:
//   - buys the match with the good card (Payment.createPayment), sees it in Payment.getPurchaseHistory and gets
//     through Asset.checkAccessForAsset;
//   - is refused the replay with the declined card: HTTP 402 {code, message};
//   - subscribes to the channel (Subscription.createSubscription), finds it in Subscription.getSubscriptions and
//     Subscription.getSubscription with InPlayer's field names and an absolute unsubscribe_url;
//   - reads Payment.getPaymentHistory: the purchase, the declined attempt (failed) and the subscription charge;
//   - cancels through Subscription.cancelSubscription(unsubscribe_url): status "cancelled"; the list shows it
//     cancelled, the pass runs to its end, a second cancel is a 409;
//   - buys the replay with the voucher: half the price charged, visible in the payment history.
//
//   node payments.mjs <base url> <merchant uuid> <merchant client secret>
//   (or GATEHOUSE_BASE_URL, GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET in the environment)
//
// Prints one line per step; exits 1 on the first failure (with the status and body of the HTTP answer at fault),
// 2 on bad arguments.

import assert from 'node:assert/strict';
import { harness, sdkVersion, show } from './harness.mjs';

const { baseUrl, merchantUuid, clientSecret, InPlayer, sdk, sdkRefusal, api, step, done } = harness(process.argv, 'payments.mjs');
const now = () => Math.floor(Date.now() / 1000);
const day = 24 * 3600;

// ---------------------------------------------------------------------------------------------------------------

const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const email = `sdk-payments-${suffix}@mail.test`;
const password = 'sdk-password-1';
const voucherCode = `HALF-OFF-${suffix}`.toUpperCase();
const matchTitle = `Sdk Match ${suffix}`;
const channelTitle = `Sdk Channel ${suffix}`;
const replayTitle = `Sdk Replay ${suffix}`;
const goodCard = '4242424242424242';
const declinedCard = '4000000000000002';

let merchantToken, consumerId;
let matchId, matchFeeId, channelId, channelFeeId, replayId, replayFeeId;
let subscription; // as getSubscriptions listed it

/** The card part of CreatePaymentData / CreateSubscriptionData, as a viewer's checkout form fills it. */
const card = (number, accessFee, extra = {}) => ({
  number, cardName: 'Sdk Viewer', expMonth: '12', expYear: String(new Date().getUTCFullYear() + 2), cvv: '123',
  accessFee, paymentMethod: 1, referrer: 'https://tv.example/watch', returnUrl: 'https://tv.example/done', ...extra,
});

/** Asserts a number of Unix seconds near the expected one (an hour either way: the request took some time). */
function assertTime(actual, expected, name) {
  assert.equal(typeof actual, 'number', `${name} is a number (got ${show(actual)})`);
  assert.ok(Math.abs(actual - expected) < 3600, `${name} (${actual}) is Unix seconds near ${expected}`);
}

console.log(`# InPlayer JS SDK ${sdkVersion} against ${baseUrl}, merchant ${merchantUuid}`);

// Set-up with plain fetch: what a merchant's back end does.

await step('setup: the merchant signs in with client_credentials', async () => {
  merchantToken = (await api('POST', '/accounts/authenticate', {
    form: { grant_type: 'client_credentials', client_id: merchantUuid, client_secret: clientSecret },
  })).access_token;
  assert.equal(typeof merchantToken, 'string');
});

/** An asset with content and one price option; answers [item id, access fee id]. */
async function assetWithPrice(title, fee) {
  const item = await api('POST', '/v2/items', { token: merchantToken, expect: 201,
    form: { title, item_type: 'video', content: `<iframe src="https://cdn.example/${suffix}/${title.length}.m3u8"></iframe>` } });
  const created = await api('POST', `/v2/items/${item.id}/access-fees`, { token: merchantToken, expect: 201, form: fee });
  return [item.id, created.id];
}

await step('setup: three assets: ppv 4.99 EUR for 2 days, a 9.99 EUR monthly subscription, ppv 10.00 EUR', async () => {
  [matchId, matchFeeId] = await assetWithPrice(matchTitle,
    { access_type: 'ppv', amount: '4.99', currency: 'EUR', quantity: 2, period: 'day', description: 'Two days' });
  [channelId, channelFeeId] = await assetWithPrice(channelTitle,
    { access_type: 'subscription', amount: '9.99', currency: 'EUR', quantity: 1, period: 'month', description: 'Monthly' });
  [replayId, replayFeeId] = await assetWithPrice(replayTitle,
    { access_type: 'ppv', amount: '10.00', currency: 'EUR', quantity: 7, period: 'day', description: 'A week' });
  return `items ${matchId}, ${channelId}, ${replayId}; fees ${matchFeeId}, ${channelFeeId}, ${replayFeeId}`;
});

await step('setup: POST /v2/vouchers creates a 50 % voucher from yesterday', async () => {
  const voucher = await api('POST', '/v2/vouchers', { token: merchantToken, expect: 201,
    form: { name: 'Half off', discount: 50, code: voucherCode, start_date: new Date(Date.now() - day * 1000).toISOString() } });
  assert.equal(voucher.discount, 50, 'discount');
  return `voucher ${voucherCode}`;
});

await step('setup: POST /accounts registers a viewer', async () => {
  const data = await api('POST', '/accounts', { expect: 201, form: { full_name: 'Sdk Payment Viewer', username: email, password,
    password_confirmation: password, client_id: merchantUuid, type: 'consumer' } });
  consumerId = data.account.id;
  assert.equal(typeof consumerId, 'number');
  return `consumer ${consumerId}`;
});

// The SDK: what a viewer's app does.

await step('Account.signIn signs the viewer in', async () => {
  const response = await sdk(() => InPlayer.Account.signIn({ email, password, clientId: merchantUuid }));
  assert.equal(response.data.account?.id, consumerId, 'the registered viewer');
  assert.equal(InPlayer.Account.isAuthenticated(), true);
});

/** Asserts the SDK's access check is refused with HTTP 402 and InPlayer's error body. */
async function assertNoAccess(itemId) {
  const refusal = await sdkRefusal(() => InPlayer.Asset.checkAccessForAsset(itemId));
  assert.equal(refusal.status, 402, `no access is HTTP 402 (got ${refusal.status}: ${show(refusal.data)})`);
  assert.equal(refusal.data?.code, 402, 'the error body\'s code');
  return `HTTP 402: ${refusal.data.message}`;
}

/** Asserts the SDK's access check grants the asset, with its content, until about expiresAt. */
async function assertAccess(itemId, title, expiresAt) {
  const response = await sdk(() => InPlayer.Asset.checkAccessForAsset(itemId));
  assert.equal(response.status, 200);
  const access = response.data;
  assert.equal(access.customer_id, consumerId, 'customer_id');
  assert.equal(access.item?.id, itemId, 'item.id');
  assert.equal(access.item?.title, title, 'item.title');
  assert.ok(access.item?.content?.includes('cdn.example'), `item.content is the protected content (got ${show(access.item?.content)})`);
  assertTime(access.expires_at, expiresAt, 'expires_at');
  return `pass ${access.id}, expires_at ${access.expires_at}`;
}

await step('Asset.checkAccessForAsset before buying: refused with HTTP 402', () => assertNoAccess(matchId));

await step('Payment.getPaymentMethods lists the card', async () => {
  const response = await sdk(() => InPlayer.Payment.getPaymentMethods());
  assert.equal(response.status, 200);
  assert.ok(Array.isArray(response.data), 'an array of MerchantPaymentMethod');
  const method = response.data.find((m) => m.id === 1);
  assert.equal(method?.method_name, 'Card', 'method_name');
  assert.equal(method?.is_external, false, 'is_external');
});

await step('Payment.createPayment buys the match with the good card: 4.99 EUR charged', async () => {
  const response = await sdk(() => InPlayer.Payment.createPayment(card(goodCard, matchFeeId)));
  assert.equal(response.status, 200);
  assert.equal(response.data.code, 200, 'code');
  assert.equal(response.data.message, 'Payment succeeded', 'message');
  assert.equal(response.data.status, 'succeeded', 'status');
  assert.equal(response.data.charged_amount, 4.99, 'charged_amount');
  assert.equal(response.data.currency, 'EUR', 'currency');
  assert.equal(typeof response.data.item_access_id, 'number', 'item_access_id');
  return `${response.data.message}, payment ${response.data.payment_id}`;
});

await step('Payment.getPurchaseHistory("active", 0, 5) shows the purchased match', async () => {
  const response = await sdk(() => InPlayer.Payment.getPurchaseHistory('active', 0, 5));
  assert.equal(response.status, 200);
  assert.equal(response.data.total, 1, 'total');
  assert.equal(response.data.collection.length, 1, 'one purchase');
  const purchase = response.data.collection[0];
  assert.equal(purchase.item_id, matchId, 'item_id');
  assert.equal(purchase.item_title, matchTitle, 'item_title');
  assert.equal(purchase.type, 'purchased', 'type');
  assert.equal(purchase.customer_id, consumerId, 'customer_id');
  assert.equal(purchase.consumer_email, email, 'consumer_email');
  assert.equal(purchase.purchased_access_fee_id, matchFeeId, 'purchased_access_fee_id');
  assert.equal(purchase.purchased_access_fee_type, 'ppv', 'purchased_access_fee_type');
  assert.equal(purchase.purchased_access_fee_description, 'Two days', 'purchased_access_fee_description');
  assert.equal(purchase.purchased_amount, 4.99, 'purchased_amount');
  assert.equal(purchase.purchased_currency, 'EUR', 'purchased_currency');
  assert.equal(purchase.is_trial, false, 'is_trial');
  assertTime(purchase.starts_at, now(), 'starts_at');
  assertTime(purchase.expires_at, now() + 2 * day, 'expires_at');
  return `item_access_id ${purchase.item_access_id}, ${purchase.purchased_amount} ${purchase.purchased_currency}`;
});

await step('Asset.checkAccessForAsset after the purchase: granted for 2 days, with item.content',
  () => assertAccess(matchId, matchTitle, now() + 2 * day));

await step('Payment.createPayment with the declined card: refused with HTTP 402 {code, message}', async () => {
  const refusal = await sdkRefusal(() => InPlayer.Payment.createPayment(card(declinedCard, replayFeeId)));
  assert.equal(refusal.status, 402);
  assert.equal(refusal.data.code, 402, 'code');
  assert.equal(refusal.data.message, 'Your card was declined', 'message');
  return `HTTP 402: ${refusal.data.message}`;
});

await step('Asset.checkAccessForAsset on the asset the declined card did not buy: HTTP 402', () => assertNoAccess(replayId));

await step('Subscription.createSubscription subscribes to the channel with the good card', async () => {
  const response = await sdk(() => InPlayer.Subscription.createSubscription(card(goodCard, channelFeeId)));
  assert.equal(response.status, 200);
  assert.equal(response.data.code, 200, 'code');
  assert.equal(response.data.message, 'Subscribed', 'message');
  assert.equal(response.data.charged_amount, 9.99, 'charged_amount');
  assert.equal(typeof response.data.subscription_id, 'number', 'subscription_id');
  return `subscription ${response.data.subscription_id}`;
});

/** Asserts a subscription as the SDK's SubscriptionDetails (and the API's own names) for the channel. */
function assertChannelSubscription(s, status) {
  assert.equal(s.status, status, 'status');
  assert.equal(s.asset_id, channelId, 'asset_id');
  assert.equal(s.asset_title, channelTitle, 'asset_title');
  assert.equal(s.item_id, channelId, 'item_id');
  assert.equal(s.item_title, channelTitle, 'item_title');
  assert.equal(s.description, 'Monthly', 'description');
  assert.equal(s.amount, 9.99, 'amount');
  assert.equal(s.currency, 'EUR', 'currency');
  assert.equal(s.formatted_amount, '9.99 EUR', 'formatted_amount');
  assert.equal(s.access_fee_id, channelFeeId, 'access_fee_id');
  assert.equal(typeof s.merchant_id, 'number', 'merchant_id is a number');
  assertTime(s.created_at, now(), 'created_at');
  assertTime(s.updated_at, now(), 'updated_at');
  assert.equal(typeof s.cancel_token, 'string', 'cancel_token');
  assert.ok(s.cancel_token.length >= 16, 'cancel_token is not empty');
  assert.equal(s.unsubscribe_url, `${baseUrl}/subscriptions/cancel/${s.cancel_token}`, 'unsubscribe_url is absolute');
  if (status === 'active') {
    // A month from now: 28 to 31 days.
    assert.equal(typeof s.next_billing_date, 'number', 'next_billing_date is a number');
    assert.ok(s.next_billing_date >= now() + 27 * day && s.next_billing_date <= now() + 32 * day,
      `next_billing_date (${s.next_billing_date}) is a month from now`);
    assert.equal(s.next_rebill_date, s.next_billing_date, 'next_rebill_date');
  }
}

await step('Subscription.getSubscriptions lists it: active, with InPlayer\'s field names and an absolute unsubscribe_url', async () => {
  const response = await sdk(() => InPlayer.Subscription.getSubscriptions());
  assert.equal(response.status, 200);
  const page = response.data;
  assert.equal(page.total, 1, 'total');
  for (const field of ['page', 'offset', 'limit']) assert.equal(typeof page[field], 'number', `${field} is a number`);
  assert.equal(page.collection.length, 1, 'one subscription');
  subscription = page.collection[0];
  assertChannelSubscription(subscription, 'active');
  return `subscription ${subscription.id}, ${subscription.formatted_amount}, unsubscribe_url ${subscription.unsubscribe_url}`;
});

await step('Subscription.getSubscriptions(0, 15, "active") filters by status', async () => {
  const response = await sdk(() => InPlayer.Subscription.getSubscriptions(0, 15, 'active'));
  assert.deepEqual(response.data.collection.map((s) => s.id), [subscription.id]);
  const cancelled = await sdk(() => InPlayer.Subscription.getSubscriptions(0, 15, 'cancelled'));
  assert.equal(cancelled.data.total, 0, 'no cancelled subscription yet');
});

await step('Subscription.getSubscription(id) reads it', async () => {
  const response = await sdk(() => InPlayer.Subscription.getSubscription(subscription.id));
  assert.equal(response.status, 200);
  assertChannelSubscription(response.data, 'active');
  assert.equal(response.data.id, subscription.id, 'id');
  assert.equal(response.data.cancel_token, subscription.cancel_token, 'cancel_token');
  return `GET ${response.config.url}`;
});

await step('Asset.checkAccessForAsset on the channel: granted by the subscription until the next billing date',
  () => assertAccess(channelId, channelTitle, subscription.next_billing_date));

await step('Payment.getPaymentHistory lists the subscription charge, the declined attempt (failed) and the purchase', async () => {
  const response = await sdk(() => InPlayer.Payment.getPaymentHistory());
  assert.equal(response.status, 200);
  const history = response.data;
  assert.equal(history.total, 3, 'total');
  assert.equal(history.collection.length, 3, 'three payments');
  for (const row of history.collection) {
    assert.equal(row.consumer_id, consumerId, 'consumer_id');
    assert.equal(typeof row.merchant_id, 'number', 'merchant_id');
    assert.equal(typeof row.gateway_id, 'number', 'gateway_id');
    assert.equal(row.currency_iso, 'EUR', 'currency_iso');
    assert.equal(typeof row.payment_method_name, 'string', 'payment_method_name');
    assert.equal(typeof row.note, 'string', 'note');
    assertTime(row.created_at, now(), 'created_at');
  }
  const [subscribed, declined, purchased] = history.collection; // newest first
  assert.deepEqual([subscribed.item_id, subscribed.item_title, subscribed.action_type, subscribed.charged_amount, subscribed.status],
    [channelId, channelTitle, 'subscribe', 9.99, 'succeeded'], 'the subscription charge');
  assert.deepEqual([declined.item_id, declined.item_title, declined.action_type, declined.status, declined.note],
    [replayId, replayTitle, 'purchase', 'failed', 'Your card was declined'], 'the declined attempt');
  assert.equal(declined.item_access_id, null, 'the declined attempt opened nothing');
  assert.deepEqual([purchased.item_id, purchased.item_title, purchased.item_type, purchased.action_type, purchased.charged_amount,
    purchased.status], [matchId, matchTitle, 'video', 'purchase', 4.99, 'succeeded'], 'the purchase');
  for (const paid of [subscribed, purchased]) {
    assert.equal(typeof paid.item_access_id, 'number', 'item_access_id of a paid row');
    assert.equal(typeof paid.transaction_token, 'string', 'transaction_token of a paid row');
    assert.equal(paid.trx_token, paid.transaction_token, 'trx_token');
    assert.equal(paid.payment_tool_token, 'card ending 4242', 'payment_tool_token');
  }
  return history.collection.map((r) => `${r.action_type} ${r.charged_amount} ${r.status}`).join(', ');
});

await step('Subscription.cancelSubscription(unsubscribe_url) answers status "cancelled"', async () => {
  const response = await sdk(() => InPlayer.Subscription.cancelSubscription(subscription.unsubscribe_url));
  assert.equal(response.status, 200);
  assert.equal(response.config.url, subscription.unsubscribe_url, 'the SDK called the unsubscribe_url as given');
  const cancelled = response.data;
  assert.equal(cancelled.code, 200, 'code');
  assert.equal(cancelled.status, 'cancelled', 'status');
  assert.equal(cancelled.subscription, subscription.cancel_token, 'subscription');
  assert.equal(cancelled.operation, 'cancellation', 'operation');
  assert.ok(cancelled.description.includes(channelTitle), `description names the asset (got ${show(cancelled.description)})`);
  assertTime(cancelled.timestamp, now(), 'timestamp');
  return cancelled.description;
});

await step('Subscription.getSubscriptions then shows it cancelled, with no next billing date', async () => {
  const response = await sdk(() => InPlayer.Subscription.getSubscriptions());
  assert.equal(response.data.total, 1, 'total');
  const s = response.data.collection[0];
  assert.equal(s.id, subscription.id, 'the same subscription');
  assertChannelSubscription(s, 'cancelled');
  assert.equal(s.next_billing_date ?? null, null, 'next_billing_date');
  const filtered = await sdk(() => InPlayer.Subscription.getSubscriptions(0, 15, 'cancelled'));
  assert.deepEqual(filtered.data.collection.map((x) => x.id), [subscription.id], 'the cancelled filter finds it');
});

await step('Asset.checkAccessForAsset on the channel after the cancel: the paid month still runs',
  () => assertAccess(channelId, channelTitle, subscription.next_billing_date));

await step('Subscription.cancelSubscription a second time: refused with HTTP 409', async () => {
  const refusal = await sdkRefusal(() => InPlayer.Subscription.cancelSubscription(subscription.unsubscribe_url));
  assert.equal(refusal.status, 409);
  assert.equal(refusal.data.code, 409, 'code');
  return refusal.data.message;
});

await step('Voucher.getDiscount prices the replay with the 50 % voucher: 5.00', async () => {
  const response = await sdk(() => InPlayer.Voucher.getDiscount({ voucherCode, accessFeeId: replayFeeId, itemId: replayId }));
  assert.equal(response.data.amount, 5, 'amount');
});

await step('Payment.createPayment with voucherCode buys the replay: half of 10.00 charged', async () => {
  const response = await sdk(() => InPlayer.Payment.createPayment(card(goodCard, replayFeeId, { voucherCode })));
  assert.equal(response.status, 200);
  assert.equal(response.data.code, 200, 'code');
  assert.equal(response.data.amount, 10, 'amount: the price');
  assert.equal(response.data.charged_amount, 5, 'charged_amount: half of it');
  assert.equal(response.data.voucher_code, voucherCode, 'voucher_code');
  assert.equal(response.data.voucher_discount, 50, 'voucher_discount');
  return `${response.data.charged_amount} ${response.data.currency} charged`;
});

await step('Payment.getPaymentHistory shows the voucher purchase: charged_amount 5', async () => {
  const response = await sdk(() => InPlayer.Payment.getPaymentHistory());
  assert.equal(response.data.total, 4, 'total');
  const latest = response.data.collection[0];
  assert.deepEqual([latest.item_id, latest.action_type, latest.charged_amount, latest.currency_iso, latest.status, latest.voucher_code],
    [replayId, 'purchase', 5, 'EUR', 'succeeded', voucherCode]);
  assert.ok(latest.note.includes(voucherCode), `note names the voucher (got ${show(latest.note)})`);
  return `note: ${latest.note}`;
});

await step('Payment.getPurchaseHistory and Asset.checkAccessForAsset: the replay is bought too', async () => {
  const response = await sdk(() => InPlayer.Payment.getPurchaseHistory('active', 0, 5));
  const replay = response.data.collection.find((p) => p.item_id === replayId);
  assert.ok(replay, `the replay is in the purchase history (got ${show(response.data)})`);
  assert.equal(replay.type, 'purchased', 'type');
  assert.equal(replay.purchased_access_fee_id, replayFeeId, 'purchased_access_fee_id');
  assert.ok(response.data.collection.some((p) => p.item_id === matchId), 'the match is still there');
  return assertAccess(replayId, replayTitle, now() + 7 * day);
});

done();
