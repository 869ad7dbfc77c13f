/**
 * uppy.js — ossgate as the signer of `@uppy/aws-s3` 6.x, with no glue code
 * of the app's own:
 *
 * @example
 * import Uppy from '@uppy/core';
 * import AwsS3 from '@uppy/aws-s3';
 * import { awsS3Options } from 'https://ossgate.example.com/ossgate.js';
 *
 * const uppy = new Uppy();
 * uppy.use(AwsS3, awsS3Options(uppy, { baseURL: 'https://ossgate.example.com', getToken }));
 * uppy.on('complete', ({ successful }) => {
 *   for (const f of successful) console.log(f.response.body.upload); // ossgate's record
 * });
 *
 * Uppy 6 sends every S3 request itself, to the URL `signRequest` returns:
 * - PutObject (files up to 100 MiB by default): an ossgate POST policy
 *   (`{url, fields}`), or with `method: 'PUT'` a presigned PUT
 *   (`{url, headers}`), both straight to OSS.
 * - CreateMultipartUpload, ListParts, CompleteMultipartUpload and
 *   AbortMultipartUpload: ossgate's S3-dialect routes under
 *   `/api/uppy/multipart`, which answer S3 XML (with the bearer token in
 *   the returned headers).
 * - UploadPart: the presigned OSS URL of `POST /api/uploads/multipart/{id}/parts`,
 *   signed a few parts ahead.
 *
 * Uppy keeps no answer body, so after the upload a post-processor fetches
 * the ossgate record (confirm for POST and PUT, which also records an
 * upload whose callback failed with 203; the JSON complete for multipart)
 * and puts it in `file.response.body.upload` before Uppy's `complete`.
 *
 * @module ossgate/uppy
 */

import { OssgateError, completeMultipart, confirmUpload, multipartStatus, parseError, partSizeFor, requestUpload, signParts } from './ossgate.js';

/** Part URLs signed per request to ossgate, ahead of the part Uppy asks for. */
const DEFAULT_SIGN_AHEAD = 10;
/** A part URL this close to its expiry is signed again. */
const URL_MARGIN_MS = 60_000;

/**
 * @typedef {object} AwsS3AdapterOptions
 * @property {string} [baseURL] ossgate's origin; '' (the page's) by default.
 * @property {string} [token] bearer JWT.
 * @property {() => (string|Promise<string>)} [getToken] called for every request when `token` is not given.
 * @property {'POST'|'PUT'} [method] how files that are not multipart go to OSS: a POST policy (default) or a presigned PUT.
 * @property {Object<string,string>|((file: object) => (Object<string,string>|undefined))} [vars] the upload's vars, or a function of the Uppy file (e.g. of `file.meta`).
 * @property {'v4'|'v1'} [signatureVersion] of POST policies.
 * @property {boolean|((file: object) => boolean)} [shouldUseMultipart] passed to Uppy; its default is multipart over 100 MiB.
 * @property {number} [signAhead] part URLs signed at once, 1..100 (default 10).
 */

/**
 * Options for `uppy.use(AwsS3, …)`: `signRequest`, plus the
 * `generateObjectKey` and `getChunkSize` it relies on (do not override
 * them). Registers one Uppy post-processor that records the uploads; call
 * it once per Uppy instance.
 * @param {object} uppy the Uppy instance the plugin is used with.
 * @param {AwsS3AdapterOptions} [opts]
 * @returns {object} @uppy/aws-s3 options.
 */
export function awsS3Options(uppy, opts = {}) {
  if (!uppy || typeof uppy.getFile !== 'function' || typeof uppy.addPostProcessor !== 'function') {
    throw new TypeError('awsS3Options(uppy, opts): pass the Uppy instance first.');
  }
  const method = opts.method ?? 'POST';
  if (method !== 'POST' && method !== 'PUT') throw new TypeError("awsS3Options: method must be 'POST' or 'PUT'.");
  const signAhead = opts.signAhead ?? DEFAULT_SIGN_AHEAD;
  if (!Number.isInteger(signAhead) || signAhead < 1 || signAhead > 100) throw new TypeError('awsS3Options: signAhead must be 1..100.');
  const api = { baseURL: opts.baseURL || '', token: opts.token, getToken: opts.getToken };
  /** What each Uppy file's upload needs later, by file id. */
  const uploads = new Map();
  /** Signed part URLs, by upload id. */
  const partURLs = new Map();

  const fileOf = (key) => {
    const file = uppy.getFile(key);
    if (!file) throw new OssgateError('invalid_request', 'No Uppy file for this request: keep the generateObjectKey of awsS3Options.');
    return file;
  };
  const varsOf = (file) => (typeof opts.vars === 'function' ? opts.vars(file) : opts.vars) || undefined;
  const describe = (file) => ({ name: file.name, size: file.size, type: file.type || 'application/octet-stream' });
  const authHeaders = async () => {
    const token = typeof api.token === 'string' ? api.token : await api.getToken?.();
    return token ? { Authorization: `Bearer ${token}` } : {};
  };

  async function signRequest(req) {
    const { method: verb, uploadId } = req;
    if (uploadId === undefined) {
      const file = fileOf(req.key);
      const vars = varsOf(file);
      if (verb === 'PUT') { // PutObject
        if (method === 'PUT') {
          const p = await presign(describe(file), api, vars);
          uploads.set(file.id, { key: p.key, ticket: p.ticket, vars });
          return { url: p.url, headers: p.headers || {}, key: p.key };
        }
        const p = await requestUpload(describe(file), { ...api, vars, signatureVersion: opts.signatureVersion });
        uploads.set(file.id, { key: p.key, ticket: p.ticket, vars });
        return { url: p.url, fields: p.fields, key: p.key };
      }
      if (verb === 'POST') { // CreateMultipartUpload
        return { url: absolute(api.baseURL, '/api/uppy/multipart?' + createQuery(describe(file), vars)), headers: await authHeaders() };
      }
      throw new OssgateError('invalid_request', `ossgate does not sign S3 ${verb} requests for Uppy.`);
    }
    const target = absolute(api.baseURL, '/api/uppy/multipart/' + encodeURIComponent(uploadId));
    switch (verb) {
      case 'PUT': // UploadPart
        return partURL(fileOf(req.key), uploadId, req.partNumber);
      case 'GET': // ListParts
      case 'DELETE': // AbortMultipartUpload
        return { url: target, headers: await authHeaders() };
      case 'POST': { // CompleteMultipartUpload
        // Complete through the JSON API for the record; the S3 route then
        // answers Uppy for the completed upload.
        const file = fileOf(req.key);
        let record;
        try {
          record = await completeMultipart(uploadId, api);
        } catch (err) {
          // Completed by an earlier attempt: the S3 route says so.
          if (!(err instanceof OssgateError) || err.code !== 'upload_closed') throw err;
        }
        uploads.set(file.id, { uploadId, record });
        partURLs.delete(uploadId);
        return { url: target, headers: await authHeaders() };
      }
      default:
        throw new OssgateError('invalid_request', `ossgate does not sign S3 ${verb} requests for Uppy.`);
    }
  }

  async function partURL(file, uploadId, partNumber) {
    let cache = partURLs.get(uploadId);
    if (!cache) partURLs.set(uploadId, (cache = new Map()));
    const partCount = Math.max(1, Math.ceil(file.size / partSizeFor(file.size)));
    const wanted = partsToSign(partNumber, partCount, cache, Date.now(), signAhead);
    if (wanted.length > 0) {
      const signed = await signParts(uploadId, wanted, api);
      const expires = Date.parse(signed.expiresAt);
      for (const p of signed.parts) cache.set(p.partNumber, { url: p.url, headers: p.headers || {}, expires });
    }
    const hit = cache.get(partNumber);
    if (!hit) throw new OssgateError('invalid_response', `ossgate did not sign part ${partNumber}.`);
    cache.delete(partNumber); // a retry signs again, with a fresh URL
    return { url: hit.url, headers: hit.headers };
  }

  // After the upload: every file gets its ossgate record, or an error.
  uppy.addPostProcessor(async (fileIDs) => {
    await Promise.all(fileIDs.map(async (id) => {
      const pending = uploads.get(id);
      const file = uppy.getFile(id);
      if (!pending || !file || file.error || !file.progress?.uploadComplete) return;
      uppy.emit('postprocess-progress', file, { mode: 'indeterminate', message: 'Recording the upload' });
      try {
        const record = await recordOf(pending, api);
        uploads.delete(id);
        const response = file.response || {};
        uppy.setFileState(id, { response: { ...response, body: { ...(response.body || {}), upload: record } } });
        uppy.emit('ossgate:upload', uppy.getFile(id), record);
      } catch (err) {
        uppy.emit('upload-error', uppy.getFile(id), err);
      }
      uppy.emit('postprocess-complete', uppy.getFile(id));
    }));
  });

  const out = {
    signRequest,
    generateObjectKey: (file) => file.id, // signRequest finds the file by it
    getChunkSize: (file) => partSizeFor(file.size), // ossgate's part layout
  };
  if (opts.shouldUseMultipart !== undefined) out.shouldUseMultipart = opts.shouldUseMultipart;
  return out;
}

/**
 * The ossgate error behind an error Uppy reports (`upload-error`): Uppy's
 * S3 errors keep ossgate's or OSS's answer in `body`.
 * @param {unknown} err
 * @returns {OssgateError}
 */
export function ossgateError(err) {
  if (err instanceof OssgateError) return err;
  if (err && typeof err === 'object' && typeof err.status === 'number' && err.status > 0) {
    return parseError(err.status, typeof err.body === 'string' ? err.body : '');
  }
  if (err && typeof err === 'object' && err.name === 'S3NetworkError') {
    return new OssgateError('network_error', 'The server could not be reached (network or CORS error).', { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OssgateError('http_error', message, { cause: err });
}

/**
 * The query of `POST /api/uppy/multipart`: the JSON create's fields, with
 * each var as `x:NAME`, as OSS forms name them.
 * @param {{name: string, size: number, type: string}} file
 * @param {Object<string,string>} [vars]
 * @returns {string}
 */
export function createQuery(file, vars) {
  const q = new URLSearchParams({ filename: String(file.name), size: String(file.size), contentType: String(file.type) });
  for (const name of Object.keys(vars || {}).sort()) q.set('x:' + name, String(vars[name]));
  return q.toString();
}

/**
 * Which part numbers to sign for part `n`: none while `n` has a URL with a
 * minute left, else `n` and the next ones without such a URL, up to `ahead`
 * numbers and `partCount`.
 * @param {number} n
 * @param {number} partCount
 * @param {Map<number, {expires: number}>} cache
 * @param {number} now ms since the epoch.
 * @param {number} ahead
 * @returns {number[]}
 */
export function partsToSign(n, partCount, cache, now, ahead) {
  const fresh = (k) => {
    const c = cache.get(k);
    return c !== undefined && c.expires - now > URL_MARGIN_MS;
  };
  if (fresh(n)) return [];
  const out = [];
  for (let k = n; k <= partCount && out.length < ahead; k++) if (!fresh(k)) out.push(k);
  return out;
}

// --- internals ---

async function recordOf(pending, api) {
  if (pending.record) return pending.record;
  if (pending.ticket) return confirmUpload({ key: pending.key, ticket: pending.ticket, vars: pending.vars }, api);
  // A multipart upload completed before this page saw it (a retry).
  const status = await multipartStatus(pending.uploadId, api);
  if (status && status.upload) return status.upload;
  throw new OssgateError('upload_closed', 'The upload was completed earlier; its record is in GET /api/uploads.');
}

/** `POST /api/uploads/presign`: a presigned PUT for one file. */
async function presign(file, api, vars) {
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  const token = typeof api.token === 'string' ? api.token : await api.getToken?.();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res, text;
  try {
    res = await fetch(absolute(api.baseURL, '/api/uploads/presign'), {
      method: 'POST', headers, body: JSON.stringify({ filename: file.name, size: file.size, contentType: file.type, vars }),
    });
    text = await res.text();
  } catch (err) {
    throw new OssgateError('network_error', 'The server could not be reached (network or CORS error).', { cause: err });
  }
  if (!res.ok) throw parseError(res.status, text);
  try {
    return JSON.parse(text);
  } catch {
    throw new OssgateError('invalid_response', `The server's answer was not JSON (HTTP ${res.status}).`, { status: res.status });
  }
}

/** An absolute URL: Uppy parses some of them. */
function absolute(baseURL, path) {
  return new URL((baseURL || '') + path, globalThis.location?.href).href;
}
