// Browser shims for running the InPlayer JS SDK (@inplayer-org/inplayer.js) in Node. Import this module before
// loading the SDK (with createRequire, after the imports: static imports are hoisted):
//
//   import './shims.mjs';
//   const InPlayer = createRequire(import.meta.url)('@inplayer-org/inplayer.js');
//
// The SDK is a browser bundle: its UMD wrapper reads `window`, its token storage reads the bare global
// `localStorage`, and its bundled axios only has the XMLHttpRequest adapter. Nothing else is needed.
// A failed request's network error is kept on the request as `networkError` (error.request.networkError in axios).

globalThis.window ??= globalThis;

export class MemoryStorage {
  #items = new Map();
  get length() { return this.#items.size; }
  key(index) { return [...this.#items.keys()][index] ?? null; }
  getItem(key) { return this.#items.has(String(key)) ? this.#items.get(String(key)) : null; }
  setItem(key, value) { this.#items.set(String(key), String(value)); }
  removeItem(key) { this.#items.delete(String(key)); }
  clear() { this.#items.clear(); }
}
if (typeof globalThis.localStorage?.getItem !== 'function') {
  Object.defineProperty(globalThis, 'localStorage', { value: new MemoryStorage(), configurable: true, writable: true });
}

/** The part of XMLHttpRequest that axios' xhr adapter uses, on top of Node's fetch. */
export class FetchXMLHttpRequest {
  static UNSENT = 0; static OPENED = 1; static HEADERS_RECEIVED = 2; static LOADING = 3; static DONE = 4;
  readyState = 0; status = 0; statusText = ''; responseURL = ''; responseType = ''; responseText = ''; response = '';
  timeout = 0; withCredentials = false;
  onreadystatechange = null; onload = null; onloadend = null; onerror = null; ontimeout = null; onabort = null;
  upload = { addEventListener() {}, removeEventListener() {} };
  #method = 'GET'; #url = ''; #headers = new Headers(); #responseHeaders = new Headers();
  #controller = new AbortController(); #timedOut = false;

  addEventListener() {} // progress events: not supported
  removeEventListener() {}
  open(method, url) { this.#method = String(method).toUpperCase(); this.#url = String(url); this.#setState(1); }
  setRequestHeader(name, value) { this.#headers.set(name, value); }
  getResponseHeader(name) { return this.#responseHeaders.get(name); }
  getAllResponseHeaders() { return [...this.#responseHeaders].map(([k, v]) => `${k}: ${v}\r\n`).join(''); }
  abort() { this.#controller.abort(); }

  send(body) {
    const timer = this.timeout > 0 ? setTimeout(() => { this.#timedOut = true; this.#controller.abort(); }, this.timeout) : null;
    const hasBody = body !== undefined && body !== null && this.#method !== 'GET' && this.#method !== 'HEAD';
    fetch(this.#url, { method: this.#method, headers: this.#headers, body: hasBody ? body : undefined, signal: this.#controller.signal })
      .then(async (res) => {
        this.status = res.status;
        this.statusText = res.statusText;
        this.responseURL = res.url;
        this.#responseHeaders = res.headers;
        this.#setState(2);
        this.responseText = await res.text();
        this.response = this.responseText;
        this.#setState(4);
        this.onload?.();
      })
      .catch((error) => {
        this.#setState(4);
        if (this.#timedOut) this.ontimeout?.();
        else if (this.#controller.signal.aborted) this.onabort?.();
        else { this.networkError = error; this.onerror?.(); }
      })
      .finally(() => { if (timer) clearTimeout(timer); this.onloadend?.(); });
  }

  #setState(state) { this.readyState = state; this.onreadystatechange?.(); }
}
globalThis.XMLHttpRequest ??= FetchXMLHttpRequest;
