/**
 * ossgate.js — a dependency-free browser client for ossgate.
 *
 * The browser asks ossgate for a signed POST policy, posts the multipart form
 * straight to OSS, OSS calls ossgate's callback, and the callback's answer
 * `{"upload": record}` comes back to the browser as the response to its POST.
 *
 * @example
 * import { upload } from '/ossgate.js';
 * const record = await upload(file, {
 *   getToken: async () => myApp.accessToken(),
 *   onProgress: ({ fraction }) => { bar.value = fraction; },
 * });
 * console.log(record.key, record.etag);
 *
 * Uppy: the policy response is already `{method, url, fields, headers}`, the
 * shape `@uppy/aws-s3` expects from `getUploadParameters`, and an Uppy file has
 * the `name`, `size` and `type` that {@link requestUpload} reads:
 * @example
 * uppy.use(AwsS3, { shouldUseMultipart: false,
 *   getUploadParameters: (file) => requestUpload(file, { getToken }) });
 *
 * Cross-origin note: listening to upload progress makes the browser send a
 * CORS preflight (OPTIONS) to OSS, so the bucket's CORS rules must allow
 * POST from the page's origin.
 *
 * @module ossgate
 */

/**
 * Every failure of this module. `code` is stable and machine-readable: the
 * server's `error.code`, the OSS XML `<Code>`, or one of `network_error`,
 * `aborted`, `invalid_response`, `http_error`.
 */
export class OssgateError extends Error {
  /** @type {string} */ code;
  /** @type {number} HTTP status, 0 when there was no HTTP answer. */ status;
  /** @type {string|undefined} OSS request id, when OSS gave one. */ requestId;

  /**
   * @param {string} code
   * @param {string} [message]
   * @param {{status?: number, requestId?: string, cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message || code, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'OssgateError';
    this.code = code;
    this.status = extra.status || 0;
    this.requestId = extra.requestId || undefined;
  }
}

/**
 * Options shared by the API calls.
 * @typedef {object} ApiOptions
 * @property {string} [baseURL] ossgate's origin; '' (same origin) by default.
 * @property {string} [token] bearer JWT.
 * @property {() => (string|Promise<string>)} [getToken] called when `token` is not given.
 * @property {AbortSignal} [signal] cancels the call (rejects with code `aborted`).
 */

/**
 * The answer of `POST /api/uploads/policy`.
 * @typedef {object} Policy
 * @property {string} method always "POST".
 * @property {string} url where to post the form (the bucket or the emulator).
 * @property {Object<string,string>} fields form fields, to send in this order before the file.
 * @property {Object<string,string>} headers request headers to set on the POST (usually none).
 * @property {string} key the object key the server chose.
 * @property {string} expiresAt RFC 3339 expiry of the policy.
 * @property {number} maxSize the most bytes OSS will accept.
 */

/**
 * A stored upload, as ossgate records it.
 * @typedef {object} UploadRecord
 * @property {string} id
 * @property {string} bucket
 * @property {string} key
 * @property {number} size
 * @property {string} contentType
 * @property {string} etag
 * @property {string} filename
 * @property {Object<string,string>} vars
 * @property {string} createdAt
 */

/**
 * Asks ossgate for a signed POST policy for one file.
 * @param {{name: string, size: number, type?: string}} file a File, Blob-with-name, or Uppy file.
 * @param {ApiOptions & {vars?: Object<string,string>, signatureVersion?: 'v4'|'v1'}} [opts]
 * @returns {Promise<Policy>}
 */
export async function requestUpload(file, opts = {}) {
  if (!file) throw new OssgateError('invalid_request', 'No file given.');
  return apiRequest('POST', '/api/uploads/policy', opts, {
    filename: file.name,
    size: file.size,
    contentType: file.type || 'application/octet-stream',
    vars: opts.vars,
    signatureVersion: opts.signatureVersion,
  });
}

/**
 * Uploads one file: gets a policy, then posts the form straight to OSS.
 * @param {Blob & {name?: string}} file
 * @param {ApiOptions & {
 *   vars?: Object<string,string>,
 *   signatureVersion?: 'v4'|'v1',
 *   onProgress?: (p: {loaded: number, total: number, fraction: number}) => void,
 *   onPolicy?: (policy: Policy) => void,
 * }} [opts] `onPolicy` sees the policy before the POST starts (e.g. for `policy.url`).
 * @returns {Promise<UploadRecord>} the record ossgate stored.
 */
export async function upload(file, opts = {}) {
  throwIfAborted(opts.signal);
  const policy = await requestUpload(file, opts);
  if (opts.onPolicy) opts.onPolicy(policy);
  return postForm(policy, file, opts);
}

/**
 * Lists the caller's uploads, newest first.
 * @param {ApiOptions & {limit?: number, cursor?: string}} [opts]
 * @returns {Promise<{uploads: UploadRecord[], nextCursor: string|null}>}
 */
export async function listUploads(opts = {}) {
  const q = new URLSearchParams();
  if (opts.limit) q.set('limit', String(opts.limit));
  if (opts.cursor) q.set('cursor', opts.cursor);
  const qs = q.toString();
  const res = await apiRequest('GET', '/api/uploads' + (qs ? '?' + qs : ''), opts);
  return { uploads: res.uploads || [], nextCursor: res.nextCursor || null };
}

/**
 * Fetches one of the caller's uploads by id.
 * @param {string} id
 * @param {ApiOptions} [opts]
 * @returns {Promise<UploadRecord>}
 */
export async function getUpload(id, opts = {}) {
  return apiRequest('GET', '/api/uploads/' + encodeURIComponent(id), opts);
}

/**
 * Local mode only: gets a one-hour development token for `sub`.
 * @param {string} sub the user name.
 * @param {{baseURL?: string, signal?: AbortSignal}} [opts]
 * @returns {Promise<string>} the JWT.
 */
export async function devToken(sub, opts = {}) {
  const res = await apiRequest('POST', '/api/dev/token', { baseURL: opts.baseURL, signal: opts.signal }, { sub });
  if (!res || typeof res.token !== 'string') throw new OssgateError('invalid_response', 'No token in the answer.');
  return res.token;
}

/**
 * Builds the PostObject form: every policy field in order, then the file
 * last as `file` (OSS ignores fields after the file).
 * @param {Policy} policy
 * @param {Blob & {name?: string}} file
 * @returns {FormData}
 */
export function buildFormData(policy, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(policy.fields || {})) form.append(name, String(value));
  if (file.name) form.append('file', file, file.name);
  else form.append('file', file);
  return form;
}

/**
 * Interprets the answer OSS gave to the form POST.
 * @param {number} status HTTP status (0: no answer).
 * @param {string} text response body.
 * @returns {UploadRecord} the `upload` member of the relayed callback answer.
 * @throws {OssgateError}
 */
export function parseUploadResponse(status, text) {
  if (status === 0) throw networkError();
  // 203: OSS stored the object but ossgate's callback failed.
  if (status === 203) {
    const err = parseError(status, text);
    if (err.code !== 'CallbackFailed' && err.code !== 'http_error') throw err;
    const detail = err.code === 'CallbackFailed' && err.message !== err.code ? `: ${err.message}` : '.';
    throw new OssgateError('CallbackFailed', 'The file was stored, but the upload callback failed' + detail,
      { status, requestId: err.requestId });
  }
  if (status < 200 || status > 299) throw parseError(status, text);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OssgateError('invalid_response', 'The storage server did not return the upload record.', { status });
  }
  if (body && body.upload && typeof body.upload === 'object') return body.upload;
  if (body && body.error) throw parseError(status, text);
  throw new OssgateError('invalid_response', 'The storage server did not return the upload record.', { status });
}

/**
 * Turns an error answer (ossgate JSON or OSS XML) into an OssgateError.
 * @param {number} status
 * @param {string} text
 * @returns {OssgateError}
 */
export function parseError(status, text) {
  const body = (text || '').trim();
  if (body.startsWith('{')) {
    try {
      const e = JSON.parse(body).error;
      if (e && e.code) return new OssgateError(String(e.code), String(e.message || e.code), { status });
    } catch { /* not JSON after all */ }
  }
  const xml = parseOssXml(body);
  if (xml && xml.code) return new OssgateError(xml.code, xml.message || xml.code, { status, requestId: xml.requestId });
  return new OssgateError('http_error', `Unexpected response (HTTP ${status}).`, { status });
}

/**
 * Reads an OSS XML error: `<Error><Code>…</Code><Message>…</Message>…</Error>`.
 * Uses DOMParser when the environment has one, else a regex.
 * @param {string} text
 * @returns {{code: string, message: string, requestId: string}|null}
 */
export function parseOssXml(text) {
  if (typeof text !== 'string' || !text.includes('<Code>')) return null;
  if (typeof DOMParser === 'function') {
    try {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      if (!doc.getElementsByTagName('parsererror').length) {
        const get = (tag) => (doc.getElementsByTagName(tag)[0]?.textContent || '').trim();
        const code = get('Code');
        if (code) return { code, message: get('Message'), requestId: get('RequestId') };
      }
    } catch { /* fall back to the regex */ }
  }
  const get = (tag) => {
    const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(text);
    return m ? decodeXml(m[1]).trim() : '';
  };
  const code = get('Code');
  return code ? { code, message: get('Message'), requestId: get('RequestId') } : null;
}

// --- internals ---

function decodeXml(s) {
  return s
    .replace(/^<!\[CDATA\[([\s\S]*)\]\]>$/, '$1')
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&'); // last, so "&amp;lt;" stays "&lt;"
}

function abortedError(cause) {
  return new OssgateError('aborted', 'The upload was cancelled.', { cause });
}

function networkError(cause) {
  return new OssgateError('network_error', 'The server could not be reached (network or CORS error).', { cause });
}

function throwIfAborted(signal) {
  if (signal && signal.aborted) throw abortedError(signal.reason);
}

async function resolveToken(opts) {
  if (typeof opts.token === 'string') return opts.token;
  if (typeof opts.getToken === 'function') return opts.getToken();
  return undefined;
}

/** Calls ossgate's JSON API; rejects with OssgateError. */
async function apiRequest(method, path, opts, body) {
  throwIfAborted(opts.signal);
  const headers = { Accept: 'application/json' };
  const token = await resolveToken(opts);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res, text;
  try {
    res = await fetch(`${opts.baseURL || ''}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body), // drops undefined members
      signal: opts.signal,
    });
    text = await res.text();
  } catch (err) {
    if (opts.signal && opts.signal.aborted) throw abortedError(err);
    throw networkError(err);
  }
  if (!res.ok) throw parseError(res.status, text);
  try {
    return JSON.parse(text);
  } catch {
    throw new OssgateError('invalid_response', `The server's answer was not JSON (HTTP ${res.status}).`, { status: res.status });
  }
}

/** Posts the form with XMLHttpRequest, the only browser API with upload progress. */
function postForm(policy, file, opts) {
  return new Promise((resolve, reject) => {
    const { signal, onProgress } = opts;
    throwIfAborted(signal);
    const xhr = new XMLHttpRequest();
    let total = file.size || 0;
    const onAbort = () => xhr.abort();
    const settle = (fn, value) => {
      if (signal) signal.removeEventListener('abort', onAbort);
      fn(value);
    };
    xhr.open(policy.method || 'POST', policy.url);
    for (const [name, value] of Object.entries(policy.headers || {})) xhr.setRequestHeader(name, String(value));
    // Only listen when asked: an upload listener forces a CORS preflight.
    if (onProgress) {
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) total = e.total;
        onProgress({ loaded: e.loaded, total, fraction: total ? Math.min(1, e.loaded / total) : 0 });
      };
    }
    xhr.onload = () => {
      try {
        const record = parseUploadResponse(xhr.status, xhr.responseText);
        if (onProgress) onProgress({ loaded: total, total, fraction: 1 });
        settle(resolve, record);
      } catch (err) {
        settle(reject, err);
      }
    };
    xhr.onerror = () => settle(reject, networkError());
    xhr.ontimeout = () => settle(reject, networkError());
    xhr.onabort = () => settle(reject, abortedError(signal && signal.reason));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(buildFormData(policy, file));
  });
}
