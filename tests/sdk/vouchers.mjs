// Drives the voucher call of the official InPlayer JS SDK (Voucher.getDiscount) against a running Gatehouse. The
// merchant sets up an asset priced 4.99 EUR and a 30 % voucher with plain fetch; the viewer signs in with the SDK
// and asks what the price option costs with the code: 3.49. An unknown code is refused with HTTP 402.
//
//   node vouchers.mjs <base url> <merchant uuid> <merchant client secret>

import assert from 'node:assert/strict';
import { harness, sdkVersion } from './harness.mjs';

const { merchantUuid, clientSecret, InPlayer, sdk, sdkRefusal, api, step, done } = harness(process.argv, 'vouchers.mjs');
const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const email = `sdk-vouchers-${suffix}@mail.test`;
const password = 'sdk-password-1';
const code = `SDK30-${suffix}`.toUpperCase();
let merchantToken, itemId, feeId;

console.log(`# @inplayer-org/inplayer.js ${sdkVersion}`);

await step('setup: the merchant signs in, creates an asset priced 4.99 EUR and a 30 % voucher', async () => {
  merchantToken = (await api('POST', '/accounts/authenticate', {
    form: { grant_type: 'client_credentials', client_id: merchantUuid, client_secret: clientSecret },
  })).access_token;
  itemId = (await api('POST', '/v2/items', { token: merchantToken, expect: 201,
    form: { title: `Sdk Voucher Final ${suffix}`, item_type: 'video', content: 'stream' } })).id;
  feeId = (await api('POST', `/v2/items/${itemId}/access-fees`, { token: merchantToken, expect: 201,
    form: { access_type: 'ppv', amount: '4.99', currency: 'EUR', quantity: 2, period: 'day', description: 'Two days' } })).id;
  await api('POST', '/vouchers', { token: merchantToken, expect: 201,
    form: { name: 'Thirty off', discount: 30, code, start_date: '2020-01-01' } });
  return `voucher ${code}`;
});

await step('setup: POST /accounts registers a viewer; Account.signIn signs in', async () => {
  await api('POST', '/accounts', { expect: 201, form: { full_name: 'Sdk Viewer', username: email, password,
    password_confirmation: password, client_id: merchantUuid, type: 'consumer' } });
  await sdk(() => InPlayer.Account.signIn({ email, password, clientId: merchantUuid }));
});

await step('Voucher.getDiscount answers the discounted price: 3.49', async () => {
  const response = await sdk(() => InPlayer.Voucher.getDiscount({ voucherCode: code.toLowerCase(), accessFeeId: feeId, itemId }));
  assert.equal(response.status, 200);
  assert.equal(response.data.amount, 3.49, 'amount');
  return `amount ${response.data.amount}`;
});

await step('Voucher.getDiscount with an unknown code: refused with HTTP 402', async () => {
  const refusal = await sdkRefusal(() => InPlayer.Voucher.getDiscount({ voucherCode: 'NOPE-NOPE', accessFeeId: feeId, itemId }));
  assert.equal(refusal.status, 402);
  assert.equal(refusal.data.message, 'Unknown voucher code');
});

done();
