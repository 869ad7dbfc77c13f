/**
 * ossgate.js — a dependency-free browser client for ossgate.
 *
 * The browser asks ossgate for a signed POST policy, posts the multipart form
 * straight to OSS, OSS calls ossgate's callback, and the callback's answer
 * `{"upload": record}` comes back to the browser as the response to its POST.
 * When the callback fails (OSS answers 203), ossgate is asked to confirm the
 * object instead. Files above 100 MiB go in parts, several at a time, and
 * resume after a page reload. Afterwards, {@link downloadURL} signs links to
 * a file (or its thumbnail) and {@link remove} deletes it.
 *
 * @example
 * import { upload } from '/ossgate.js';
 * const record = await upload(file, {
 *   getToken: async () => myApp.accessToken(),
 *   onProgress: ({ fraction }) => { bar.value = fraction; },
 * });
 * console.log(record.key, record.etag);
 *
 * Uppy: `awsS3Options(uppy, { getToken })` (from uppy.js, re-exported here)
 * configures `@uppy/aws-s3` to sign through ossgate.
 *
 * Cross-origin note: listening to upload progress makes the browser send a
 * CORS preflight (OPTIONS) to OSS, so the bucket's CORS rules must allow
 * POST, and PUT for the parts of big files, from the page's origin.
 *
 * @module ossgate
 */

/**
 * Every failure of this module. `code` is stable and machine-readable: the
 * server's `error.code`, the OSS XML `<Code>`, or one of `network_error`,
 * `aborted`, `invalid_request`, `invalid_response`, `http_error`,
 * `multipart_unsupported`.
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
 * @property {string} [ticket] what {@link confirmUpload} needs if the callback fails.
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
 * @property {{width: number, height: number, format: string}} [image] for images.
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
 * Uploads one file. Up to `multipartThreshold` bytes: gets a policy and posts
 * the form straight to OSS. Larger: a resumable multipart upload (see
 * {@link uploadMultipart}). When OSS stored the object but ossgate's callback
 * failed (203 `CallbackFailed`), asks ossgate to confirm it and resolves with
 * that record; it rejects only if the confirmation fails, with its code.
 * @param {Blob & {name?: string, lastModified?: number}} file
 * @param {MultipartOptions & {
 *   signatureVersion?: 'v4'|'v1',
 *   onPolicy?: (policy: Policy) => void,
 *   multipartThreshold?: number,
 * }} [opts] `onPolicy` sees the policy before the POST starts (form uploads only).
 *   `multipartThreshold` defaults to {@link DEFAULT_MULTIPART_THRESHOLD}.
 * @returns {Promise<UploadRecord>} the record ossgate stored.
 */
export async function upload(file, opts = {}) {
  throwIfAborted(opts.signal);
  if (!file) throw new OssgateError('invalid_request', 'No file given.');
  const threshold = opts.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  if (file.size > threshold) {
    try {
      return await uploadMultipart(file, opts);
    } catch (err) {
      // A server without multipart: a form still takes files up to 5 GiB.
      if (!(err instanceof OssgateError) || err.code !== 'multipart_unsupported') throw err;
    }
  }
  const policy = await requestUpload(file, opts);
  if (opts.onPolicy) opts.onPolicy(policy);
  try {
    return await postForm(policy, file, opts);
  } catch (err) {
    if (!(err instanceof OssgateError) || err.code !== 'CallbackFailed' || !policy.ticket) throw err;
    return confirmUpload({ key: policy.key, ticket: policy.ticket, vars: opts.vars }, opts);
  }
}

/**
 * Records an upload that OSS stored but whose callback failed (OSS answered
 * 203 `CallbackFailed`): `POST /api/uploads/confirm` with the policy's `key`
 * and `ticket`. Retried on network errors, 429 and 5xx like parts are.
 * {@link upload} calls it by itself.
 * @param {{key: string, ticket: string, vars?: Object<string,string>}} what
 * @param {ApiOptions & {retryDelays?: number[]}} [opts]
 * @returns {Promise<UploadRecord>}
 */
export async function confirmUpload(what, opts = {}) {
  const res = await withRetry(() => apiRequest('POST', '/api/uploads/confirm', opts,
    { key: what.key, ticket: what.ticket, vars: what.vars }), opts);
  return recordOf(res);
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
 * Asks for a short-lived signed link to one of the caller's uploads:
 * `GET /api/uploads/{id}/url`. The link works without a token, for `<img>`,
 * `<a href>` or a download, until `expiresAt`.
 * @param {string} id the record's id.
 * @param {ApiOptions & {disposition?: 'inline'|'attachment', style?: string}} [opts]
 *   `disposition` asks OSS to show or to download the file; `style` names a
 *   processing style of the bucket (`thumb`: a 256×256 thumbnail).
 * @returns {Promise<{url: string, expiresAt: string}>}
 */
export async function downloadURL(id, opts = {}) {
  const q = new URLSearchParams();
  if (opts.disposition) q.set('disposition', opts.disposition);
  if (opts.style) q.set('style', opts.style);
  const qs = q.toString();
  const res = await apiRequest('GET', `/api/uploads/${encodeURIComponent(id)}/url${qs ? '?' + qs : ''}`, opts);
  if (!res || typeof res.url !== 'string' || !/^https?:\/\//i.test(res.url)) {
    throw new OssgateError('invalid_response', 'The server did not return a link.');
  }
  return { url: res.url, expiresAt: String(res.expiresAt || '') };
}

/**
 * Deletes one of the caller's uploads, object and record:
 * `DELETE /api/uploads/{id}`. Resolves when it is gone.
 * @param {string} id
 * @param {ApiOptions} [opts]
 * @returns {Promise<void>}
 */
export async function remove(id, opts = {}) {
  await apiRequest('DELETE', '/api/uploads/' + encodeURIComponent(id), opts);
}

// --- multipart uploads ---

const MiB = 1 << 20;

/** Files above this many bytes go multipart in {@link upload} (Uppy's default too). */
export const DEFAULT_MULTIPART_THRESHOLD = 100 * MiB;
/** The part size of files up to `DEFAULT_PART_SIZE * MAX_PARTS` bytes. */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** OSS's most parts in one upload. */
export const MAX_PARTS = 10000;

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 16;
const DEFAULT_RETRY_DELAYS = [1000, 3000, 5000];
const MAX_SIGN_BATCH = 100; // the server's limit per request
const URL_MARGIN_MS = 30_000; // a part URL this close to its expiry is signed again
const RESUME_MARGIN_MS = 10 * 60_000; // a session this close to its expiry is not resumed
const RESUME_PREFIX = 'ossgate.multipart:';

/**
 * A multipart session, as `POST /api/uploads/multipart` and
 * `GET /api/uploads/multipart/{uploadId}` answer it.
 * @typedef {object} MultipartSession
 * @property {string} uploadId
 * @property {string} key
 * @property {number} size
 * @property {number} partSize every part but the last has exactly this size.
 * @property {number} partCount
 * @property {string} expiresAt when ossgate aborts the session if unfinished.
 * @property {'open'|'completed'|'aborted'} state
 * @property {{partNumber: number, etag: string, size: number}[]} [parts] status only: what OSS holds.
 */

/**
 * Options of multipart uploads (and of {@link upload}, which passes them on).
 * @typedef {ApiOptions & {
 *   vars?: Object<string,string>,
 *   onProgress?: (p: {loaded: number, total: number, fraction: number, partsDone?: number, partCount?: number}) => void,
 *   onSession?: (s: MultipartSession & {resumedParts: number}) => void,
 *   concurrency?: number,
 *   retryDelays?: number[],
 *   keepOnAbort?: boolean,
 *   resume?: boolean,
 *   storage?: Storage|null,
 * }} MultipartOptions
 * `concurrency`: parts in flight, 1..16, default 4. `retryDelays`: the waits
 * in ms before each retry of a failed part (or API call), default
 * [1000, 3000, 5000]. `keepOnAbort`: on `signal` abort, keep the session for
 * a later resume instead of aborting it. `resume` (default true) remembers
 * the session in `storage` (default localStorage) under the file's
 * fingerprint, so the same file resumes after a reload. `loaded` in
 * `onProgress` goes down when a part is sent again.
 */

/**
 * The part size ossgate uses for a file of `size` bytes (`policy.PartSize`
 * in Go): {@link DEFAULT_PART_SIZE}, or for very large files the smallest
 * whole number of MiB that fits the file in {@link MAX_PARTS} parts. Uppy's
 * `getChunkSize` can return it.
 * @param {number} size
 * @returns {number}
 */
export function partSizeFor(size) {
  if (!Number.isSafeInteger(size) || size < 0) throw new OssgateError('invalid_request', 'size must be a whole number of bytes.');
  if (size <= DEFAULT_PART_SIZE * MAX_PARTS) return DEFAULT_PART_SIZE;
  return ceilDiv(ceilDiv(size, MAX_PARTS), MiB) * MiB;
}

/**
 * What identifies "the same file" across page loads: name, size,
 * lastModified and type. Resumable uploads are remembered under it.
 * @param {{name?: string, size: number, lastModified?: number, type?: string}} file
 * @returns {string}
 */
export function fingerprint(file) {
  return JSON.stringify([String(file.name ?? ''), Number(file.size), Number(file.lastModified ?? 0), String(file.type ?? '')]);
}

/**
 * Starts a multipart upload: `POST /api/uploads/multipart`.
 * @param {{name: string, size: number, type?: string}} file
 * @param {ApiOptions & {vars?: Object<string,string>}} [opts]
 * @returns {Promise<MultipartSession>}
 */
export async function createMultipart(file, opts = {}) {
  if (!file) throw new OssgateError('invalid_request', 'No file given.');
  return apiRequest('POST', '/api/uploads/multipart', opts, {
    filename: file.name,
    size: file.size,
    contentType: file.type || 'application/octet-stream',
    vars: opts.vars,
  });
}

/**
 * Signs UploadPart URLs: `POST /api/uploads/multipart/{uploadId}/parts`.
 * @param {string} uploadId
 * @param {number[]} partNumbers 1..100 numbers.
 * @param {ApiOptions} [opts]
 * @returns {Promise<{parts: {partNumber: number, method: string, url: string, headers: Object<string,string>, size: number}[], expiresAt: string}>}
 */
export async function signParts(uploadId, partNumbers, opts = {}) {
  return apiRequest('POST', multipartPath(uploadId, '/parts'), opts, { partNumbers });
}

/**
 * The session and the parts OSS holds: `GET /api/uploads/multipart/{uploadId}`.
 * @param {string} uploadId
 * @param {ApiOptions} [opts]
 * @returns {Promise<MultipartSession>}
 */
export async function multipartStatus(uploadId, opts = {}) {
  return apiRequest('GET', multipartPath(uploadId), opts);
}

/**
 * Completes the upload from the parts OSS holds:
 * `POST /api/uploads/multipart/{uploadId}/complete`.
 * @param {string} uploadId
 * @param {ApiOptions} [opts]
 * @returns {Promise<UploadRecord>}
 */
export async function completeMultipart(uploadId, opts = {}) {
  return recordOf(await apiRequest('POST', multipartPath(uploadId, '/complete'), opts, {}));
}

/**
 * Aborts the upload and frees its parts: `DELETE /api/uploads/multipart/{uploadId}`.
 * @param {string} uploadId
 * @param {ApiOptions} [opts]
 * @returns {Promise<void>}
 */
export async function abortMultipart(uploadId, opts = {}) {
  await apiRequest('DELETE', multipartPath(uploadId), opts);
}

/**
 * Uploads one file in parts, several at a time, retrying failed parts, and
 * resuming a session this browser started for the same file (see
 * {@link fingerprint}): only the parts OSS lacks are sent again.
 * @param {Blob & {name?: string, lastModified?: number}} file
 * @param {MultipartOptions} [opts]
 * @returns {Promise<UploadRecord>}
 */
export async function uploadMultipart(file, opts = {}) {
  throwIfAborted(opts.signal);
  if (!file) throw new OssgateError('invalid_request', 'No file given.');
  const memory = resumeMemory(opts);
  const memKey = JSON.stringify([opts.baseURL || '', fingerprint(file), sortedVars(opts.vars)]);
  const found = await resumeSession(file, memory, memKey, opts);
  if (found && found.record) return found.record;
  let session, held;
  if (found) {
    ({ session, held } = found);
  } else {
    let created;
    try {
      created = await createMultipart(file, opts);
    } catch (err) {
      if (err.status === 404 || err.status === 405) {
        throw new OssgateError('multipart_unsupported', 'This server does not take multipart uploads.', { status: err.status, cause: err });
      }
      throw err;
    }
    session = checkSession(created, file.size);
    held = new Map();
    memory.set(memKey, { ...session, filename: file.name });
  }
  if (opts.onSession) opts.onSession({ ...session, resumedParts: held.size });
  try {
    for (let round = 0; ; round++) {
      await uploadParts(file, session, held, opts);
      try {
        const record = await withRetry(() => completeMultipart(session.uploadId, opts), opts);
        memory.drop(memKey);
        if (opts.onProgress) opts.onProgress({ loaded: file.size, total: file.size, fraction: 1, partsDone: session.partCount, partCount: session.partCount });
        return record;
      } catch (err) {
        // OSS lacks a part we think it has (e.g. one lost after a reload): once more.
        if (err.code !== 'upload_incomplete' || round > 0) throw err;
        const status = await withRetry(() => multipartStatus(session.uploadId, opts), opts);
        held = partsHeld(status, checkSession(status, file.size));
      }
    }
  } catch (err) {
    if (opts.signal && opts.signal.aborted) {
      if (!opts.keepOnAbort) {
        memory.drop(memKey);
        await abortMultipart(session.uploadId, { ...opts, signal: undefined }).catch(() => {});
      }
      throw err instanceof OssgateError && err.code === 'aborted' ? err : abortedError(opts.signal.reason);
    }
    if (err.code === 'upload_closed') {
      // An earlier complete may have succeeded without us hearing the answer.
      memory.drop(memKey);
      const record = await findRecord(session.key, opts).catch(() => null);
      if (record) return record;
    }
    if (err.status === 404 || err.code === 'size_mismatch' || err.code === 'NoSuchUpload') memory.drop(memKey);
    throw err;
  }
}

/**
 * The multipart uploads this browser remembers and can resume: choosing the
 * same file again (same name, size, date and type) sends only what is missing.
 * @param {{resume?: boolean, storage?: Storage|null}} [opts] as for {@link uploadMultipart}.
 * @returns {{filename: string, size: number, key: string, uploadId: string, expiresAt: string}[]}
 */
export function resumableUploads(opts = {}) {
  return resumeMemory(opts).list().map((v) => ({
    filename: String(v.filename || ''), size: v.size, key: String(v.key || ''), uploadId: v.uploadId, expiresAt: String(v.expiresAt),
  }));
}

/** Looks for the remembered session of this file; drops it when unusable. */
async function resumeSession(file, memory, memKey, opts) {
  const saved = memory.get(memKey);
  if (!saved) return null;
  if (saved.size !== file.size || !(Date.parse(saved.expiresAt) - Date.now() > RESUME_MARGIN_MS)) {
    memory.drop(memKey);
    return null;
  }
  let status;
  try {
    status = await withRetry(() => multipartStatus(saved.uploadId, opts), opts);
  } catch (err) {
    if (err.status !== 404 && err.code !== 'upload_closed') throw err;
    memory.drop(memKey);
    return null;
  }
  if (status && status.state === 'completed') {
    memory.drop(memKey);
    const record = await findRecord(status.key, opts).catch(() => null);
    return record ? { record } : null;
  }
  let session;
  try {
    if (!status || status.state !== 'open' || status.uploadId !== saved.uploadId) throw new OssgateError('invalid_response');
    session = checkSession(status, file.size);
  } catch {
    memory.drop(memKey);
    return null;
  }
  return { session, held: partsHeld(status, session) };
}

/** Sends every part OSS does not hold yet, `concurrency` at a time. */
async function uploadParts(file, session, held, opts) {
  const sizeOf = (n) => partLength(session, n);
  const todo = [];
  const progress = new PartProgress(session, opts.onProgress);
  for (let n = 1; n <= session.partCount; n++) {
    if (held.get(n) === sizeOf(n)) progress.done(n, sizeOf(n), { quiet: true });
    else todo.push(n);
  }
  progress.report();
  if (!todo.length) return;
  const concurrency = clampInt(opts.concurrency, 1, MAX_CONCURRENCY, DEFAULT_CONCURRENCY);
  // The first failure stops the other parts too.
  const stop = linkedController(opts.signal);
  const partOpts = { ...opts, signal: stop.signal };
  const signer = partSigner(session, todo, Math.min(MAX_SIGN_BATCH, concurrency * 2), partOpts);
  const queue = todo.slice();
  let failure;
  const worker = async () => {
    while (queue.length && !failure) {
      const n = queue.shift();
      try {
        await uploadPart(file, session, n, signer, progress, partOpts);
        held.set(n, sizeOf(n));
      } catch (err) {
        if (!failure) failure = err;
        stop.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  } finally {
    stop.release();
  }
  if (failure) throw failure;
}

/** PUTs one part, retrying transient failures (and 403, with a fresh URL). */
async function uploadPart(file, session, n, signer, progress, opts) {
  const start = (n - 1) * session.partSize;
  const size = partLength(session, n);
  const body = file.slice(start, start + size);
  const delays = retryDelaysOf(opts);
  for (let attempt = 0; ; attempt++) {
    try {
      const part = await signer.get(n);
      const res = await xhrSend({
        method: part.method || 'PUT', url: part.url, headers: part.headers, body, signal: opts.signal,
        onUploadProgress: (loaded) => progress.set(n, Math.min(loaded, size)),
      });
      if (res.status < 200 || res.status > 299) throw parseError(res.status, res.text);
      progress.done(n, size);
      return;
    } catch (err) {
      progress.set(n, 0);
      if (isAbort(err, opts.signal) || attempt >= delays.length || !(transient(err) || err.status === 403)) throw err;
      if (err.status === 403) signer.forget(n); // most likely the URL expired
      await sleep(delays[attempt], opts.signal);
    }
  }
}

/**
 * Signs part URLs in batches ahead of need and reuses them until close to
 * their expiry.
 */
function partSigner(session, order, batchSize, opts) {
  const entries = new Map(); // partNumber → {promise, expiresAt (ms; NaN while signing)}
  const position = new Map(order.map((n, i) => [n, i]));
  const usable = (e) => e && (Number.isNaN(e.expiresAt) || e.expiresAt - Date.now() > URL_MARGIN_MS);
  const sign = (n) => {
    const batch = [n];
    for (let i = (position.get(n) ?? order.length) + 1; i < order.length && batch.length < batchSize; i++) {
      if (!usable(entries.get(order[i]))) batch.push(order[i]);
    }
    const fresh = batch.map((m) => [m, { promise: null, expiresAt: NaN }]);
    const signing = withRetry(() => signParts(session.uploadId, batch, opts), opts).then((res) => {
      const expiresAt = Date.parse(res && res.expiresAt);
      for (const [, e] of fresh) e.expiresAt = Number.isNaN(expiresAt) ? Date.now() + 5 * 60_000 : expiresAt;
      const byNumber = new Map();
      for (const p of (res && Array.isArray(res.parts) ? res.parts : [])) {
        if (p && batch.includes(p.partNumber) && typeof p.url === 'string' && p.size === partLength(session, p.partNumber)) byNumber.set(p.partNumber, p);
      }
      return byNumber;
    });
    for (const [m, e] of fresh) {
      e.promise = signing.then((byNumber) => {
        const p = byNumber.get(m);
        if (!p) throw new OssgateError('invalid_response', `The server did not sign part ${m}.`);
        return p;
      });
      // A failed signing is forgotten, so the next attempt signs again.
      e.promise.catch(() => { if (entries.get(m) === e) entries.delete(m); });
      entries.set(m, e);
    }
  };
  return {
    get(n) {
      if (!usable(entries.get(n))) sign(n);
      return entries.get(n).promise;
    },
    forget(n) { entries.delete(n); },
  };
}

/** Sums the bytes sent across parts for onProgress. */
class PartProgress {
  constructor(session, onProgress) {
    this.total = session.size;
    this.partCount = session.partCount;
    this.onProgress = onProgress;
    this.sent = new Map();
    this.loaded = 0;
    this.partsDone = 0;
    this.finished = new Set();
  }
  set(n, bytes, { quiet = false } = {}) {
    if (this.finished.has(n)) return;
    this.loaded += bytes - (this.sent.get(n) || 0);
    this.sent.set(n, bytes);
    if (!quiet) this.report();
  }
  done(n, size, { quiet = false } = {}) {
    if (this.finished.has(n)) return;
    this.finished.add(n);
    this.partsDone = this.finished.size;
    this.loaded += size - (this.sent.get(n) || 0);
    this.sent.set(n, size);
    if (!quiet) this.report();
  }
  report() {
    if (!this.onProgress) return;
    const { loaded, total } = this;
    this.onProgress({ loaded, total, fraction: total ? Math.min(1, loaded / total) : 0, partsDone: this.partsDone, partCount: this.partCount });
  }
}

/** Remembers sessions by file (localStorage unless told otherwise); never throws. */
function resumeMemory(opts) {
  let storage = null;
  if (opts.resume !== false) {
    try {
      storage = opts.storage !== undefined ? opts.storage : globalThis.localStorage || null;
    } catch { /* storage disabled by the browser */ }
  }
  const keys = () => {
    const out = [];
    for (let i = 0; i < Math.min(storage.length, 10000); i++) {
      const k = storage.key(i);
      if (k && k.startsWith(RESUME_PREFIX)) out.push(k);
    }
    return out;
  };
  const read = (k) => {
    try {
      const v = JSON.parse(storage.getItem(k));
      return v && typeof v.uploadId === 'string' && v.uploadId.length <= 1024 && Number.isSafeInteger(v.size) ? v : null;
    } catch {
      return null;
    }
  };
  return {
    get(id) {
      try { return storage ? read(RESUME_PREFIX + id) : null; } catch { return null; }
    },
    set(id, s) {
      if (!storage) return;
      try {
        for (const k of keys()) { // forget sessions ossgate has aborted by now
          const v = read(k);
          if (!v || !(Date.parse(v.expiresAt) > Date.now())) storage.removeItem(k);
        }
        storage.setItem(RESUME_PREFIX + id, JSON.stringify({
          uploadId: s.uploadId, key: s.key, size: s.size, partSize: s.partSize, partCount: s.partCount, expiresAt: s.expiresAt,
          filename: String(s.filename || '').slice(0, 255),
        }));
      } catch { /* full or disabled: the upload just won't resume */ }
    },
    drop(id) {
      try { if (storage) storage.removeItem(RESUME_PREFIX + id); } catch { /* ignore */ }
    },
    list() {
      try {
        return storage ? keys().map(read).filter((v) => v && Date.parse(v.expiresAt) > Date.now()) : [];
      } catch {
        return [];
      }
    },
  };
}

/** Checks a session answer against the file before trusting its layout. */
function checkSession(s, size) {
  const ok = s && typeof s.uploadId === 'string' && s.uploadId && s.uploadId.length <= 1024 &&
    s.size === size && Number.isSafeInteger(s.partSize) && s.partSize > 0 &&
    Number.isSafeInteger(s.partCount) && s.partCount >= 1 && s.partCount <= MAX_PARTS &&
    s.partCount === ceilDiv(size, s.partSize);
  if (!ok) throw new OssgateError('invalid_response', 'The server answered with a multipart session that does not fit the file.');
  return { uploadId: s.uploadId, key: String(s.key || ''), size, partSize: s.partSize, partCount: s.partCount, expiresAt: String(s.expiresAt || ''), state: s.state || 'open' };
}

/** The parts a status answer says OSS holds, by number → size. */
function partsHeld(status, session = status) {
  const held = new Map();
  for (const p of Array.isArray(status.parts) ? status.parts : []) {
    if (Number.isSafeInteger(p.partNumber) && p.partNumber >= 1 && p.partNumber <= session.partCount && Number.isSafeInteger(p.size)) {
      held.set(p.partNumber, p.size);
    }
  }
  return held;
}

function partLength(session, n) {
  return n === session.partCount ? session.size - (session.partCount - 1) * session.partSize : session.partSize;
}

/** Finds the caller's record of an object key in the newest few pages. */
async function findRecord(key, opts) {
  let cursor;
  for (let page = 0; page < 3; page++) {
    const res = await listUploads({ ...opts, limit: 200, cursor });
    const hit = res.uploads.find((r) => r && r.key === key);
    if (hit) return hit;
    if (!res.nextCursor) return null;
    cursor = res.nextCursor;
  }
  return null;
}

function multipartPath(uploadId, tail = '') {
  if (typeof uploadId !== 'string' || !uploadId) throw new OssgateError('invalid_request', 'No uploadId given.');
  return '/api/uploads/multipart/' + encodeURIComponent(uploadId) + tail;
}

function sortedVars(vars) {
  return vars ? Object.keys(vars).sort().map((k) => [k, String(vars[k])]) : [];
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
  if (res.status === 204 || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new OssgateError('invalid_response', `The server's answer was not JSON (HTTP ${res.status}).`, { status: res.status });
  }
}

/** Posts the form with XMLHttpRequest, the only browser API with upload progress. */
async function postForm(policy, file, opts) {
  const { onProgress } = opts;
  let total = file.size || 0;
  const res = await xhrSend({
    method: policy.method || 'POST', url: policy.url, headers: policy.headers, body: buildFormData(policy, file), signal: opts.signal,
    // Only listen when asked: an upload listener forces a CORS preflight.
    onUploadProgress: onProgress && ((loaded, t) => {
      if (t) total = t;
      onProgress({ loaded, total, fraction: total ? Math.min(1, loaded / total) : 0 });
    }),
  });
  const record = parseUploadResponse(res.status, res.text);
  if (onProgress) onProgress({ loaded: total, total, fraction: 1 });
  return record;
}

/**
 * One XMLHttpRequest; resolves with any HTTP answer, rejects with
 * `network_error` or `aborted`.
 * @returns {Promise<{status: number, text: string, etag: string|null}>}
 */
function xhrSend({ method, url, headers, body, signal, onUploadProgress }) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(abortedError(signal.reason));
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const settle = (fn, value) => {
      if (signal) signal.removeEventListener('abort', onAbort);
      fn(value);
    };
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, String(value));
    if (onUploadProgress) {
      xhr.upload.onprogress = (e) => onUploadProgress(e.loaded, e.lengthComputable ? e.total : 0);
    }
    xhr.onload = () => settle(resolve, { status: xhr.status, text: xhr.responseText, etag: xhr.getResponseHeader('ETag') });
    xhr.onerror = () => settle(reject, networkError());
    xhr.ontimeout = () => settle(reject, networkError());
    xhr.onabort = () => settle(reject, abortedError(signal && signal.reason));
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(body);
  });
}

function recordOf(res) {
  if (res && res.upload && typeof res.upload === 'object') return res.upload;
  throw new OssgateError('invalid_response', 'The server did not return the upload record.');
}

/** Worth another try: no answer, or an answer that says "later". */
function transient(err) {
  if (!(err instanceof OssgateError) || err.code === 'aborted') return false;
  return err.code === 'network_error' || err.status === 408 || err.status === 429 || err.status >= 500;
}

function isAbort(err, signal) {
  return (signal && signal.aborted) || (err instanceof OssgateError && err.code === 'aborted');
}

/** Runs fn, again after each of opts.retryDelays while it fails transiently. */
async function withRetry(fn, opts) {
  const delays = retryDelaysOf(opts);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (isAbort(err, opts.signal) || attempt >= delays.length || !transient(err)) throw err;
      await sleep(delays[attempt], opts.signal);
    }
  }
}

function retryDelaysOf(opts) {
  if (!Array.isArray(opts.retryDelays)) return DEFAULT_RETRY_DELAYS;
  return opts.retryDelays.slice(0, 10).map((d) => clampInt(d, 0, 60_000, 0));
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(abortedError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal.reason));
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** An AbortController that also aborts when parent does; release() unhooks it. */
function linkedController(parent) {
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(parent.reason);
  if (parent) {
    if (parent.aborted) ctrl.abort(parent.reason);
    else parent.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: ctrl.signal,
    abort: () => ctrl.abort(),
    release: () => parent && parent.removeEventListener('abort', onAbort),
  };
}

function clampInt(v, lo, hi, fallback) {
  const n = Number(v);
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.floor(n))) : fallback;
}

/** ceil(a / b) for whole numbers, exact up to 2^53. */
function ceilDiv(a, b) {
  let q = Math.floor(a / b);
  while (q * b < a) q++;
  while (q > 0 && (q - 1) * b >= a) q--;
  return q;
}

export { awsS3Options, ossgateError } from './uppy.js';
