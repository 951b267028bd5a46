// What the SDK scripts share: the official InPlayer JS SDK loaded after the browser shims, a plain-fetch helper for
// the merchant's set-up calls, and numbered steps that print "ok N - …" and exit 1 on the first failure with the
// HTTP answer at fault.
//
//   const { InPlayer, sdk, sdkRefusal, api, step } = harness(process.argv, 'vouchers.mjs');

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import './shims.mjs'; // browser globals the SDK needs: window, localStorage, XMLHttpRequest

const require = createRequire(import.meta.url);
export const sdkVersion = require('@inplayer-org/inplayer.js/package.json').version;
// Loaded after the shims (static imports would be hoisted above them).
export const InPlayer = require('@inplayer-org/inplayer.js');

export const show = (data) => (typeof data === 'string' ? data : JSON.stringify(data));

/** A plain-fetch call that did not answer as expected. */
class HttpError extends Error {
  constructor(method, path, status, body, expected) {
    super(`HTTP ${status} (${method} ${path}), expected ${expected}: ${body}`);
    this.name = 'HttpError';
  }
}

/** Reads <base url> <merchant uuid> <merchant client secret> (or GATEHOUSE_* variables) and points the SDK there. */
export function harness(argv, script) {
  const baseUrl = (argv[2] ?? process.env.GATEHOUSE_BASE_URL ?? '').replace(/\/+$/, '');
  const merchantUuid = argv[3] ?? process.env.GATEHOUSE_CLIENT_ID ?? '';
  const clientSecret = argv[4] ?? process.env.GATEHOUSE_CLIENT_SECRET ?? '';
  if (!baseUrl || !merchantUuid || !clientSecret) {
    console.error(`usage: node ${script} <base url> <merchant uuid> <merchant client secret>\n` +
                  '   (or GATEHOUSE_BASE_URL, GATEHOUSE_CLIENT_ID, GATEHOUSE_CLIENT_SECRET)');
    process.exit(2);
  }
  InPlayer.setConfig('production', { baseURL: baseUrl });

  let lastAnswer = null;

  async function sdk(call) {
    try {
      const response = await call();
      lastAnswer = `HTTP ${response.status} (${response.config?.method?.toUpperCase()} ${response.config?.url}): ${show(response.data)}`;
      return response;
    } catch (error) {
      if (error?.response) {
        const { status, data, config } = error.response;
        lastAnswer = `HTTP ${status} (${config?.method?.toUpperCase()} ${config?.url}): ${show(data)}`;
      }
      throw error;
    }
  }

  async function sdkRefusal(call) {
    let response;
    try {
      response = await sdk(call);
    } catch (error) {
      if (!error?.response) throw error;
      return error.response;
    }
    assert.fail(`expected the SDK call to be refused, but it answered HTTP ${response.status}: ${show(response.data)}`);
  }

  async function api(method, path, { token, form, expect = 200 } = {}) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let body;
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(Object.entries(form).map(([k, v]) => [k, String(v)])).toString();
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    lastAnswer = `HTTP ${res.status} (${method} ${path}): ${text}`;
    if (res.status !== expect) throw new HttpError(method, path, res.status, text, expect);
    return text ? JSON.parse(text) : null;
  }

  const describe = (error) => {
    if (error?.response) {
      const { status, data, config } = error.response;
      const request = config ? ` (${config.method?.toUpperCase()} ${config.url})` : '';
      return `HTTP ${status}${request}: ${show(data)}`;
    }
    if (error instanceof HttpError) return error.message;
    const cause = error?.request?.networkError; // set by the XMLHttpRequest shim
    return (error?.stack ?? String(error)) + (cause ? `\ncaused by: ${cause.cause?.message ?? cause.message}` : '') +
      (lastAnswer ? `\nlast HTTP answer: ${lastAnswer}` : '');
  };

  let stepNumber = 0;
  async function step(name, run) {
    stepNumber++;
    lastAnswer = null;
    try {
      const detail = await run();
      console.log(`ok ${stepNumber} - ${name}${detail ? ` (${detail})` : ''}`);
    } catch (error) {
      console.log(`not ok ${stepNumber} - ${name}`);
      console.error(describe(error));
      process.exit(1);
    }
  }

  /** The last line of a script that got through every step. */
  const done = () => console.log(`# all ${stepNumber} steps passed`);

  return { baseUrl, merchantUuid, clientSecret, InPlayer, sdk, sdkRefusal, api, step, done };
}
