// Node tests of the Uppy adapter's own logic: `node --test static/`.
// The real @uppy/core + @uppy/aws-s3 run against it in e2e_browser_uppy_test.go.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import { awsS3Options, createQuery, ossgateError, partsToSign } from './uppy.js';
import { OssgateError } from './ossgate.js';

const BASE = 'https://ossgate.example.com';
const MiB = 1 << 20;

/** A fetch that records calls and answers from `routes` ("METHOD /path" → (body) => [status, json]). */
let calls, routes;
const realFetch = globalThis.fetch;
beforeEach(() => {
  calls = [];
  routes = {};
  globalThis.fetch = async (url, init = {}) => {
    const u = new URL(url);
    const route = `${init.method || 'GET'} ${u.pathname}`;
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ route, body, headers: init.headers || {} });
    const handler = routes[route];
    if (!handler) return new Response(JSON.stringify({ error: { code: 'not_found', message: route } }), { status: 404 });
    const [status, json] = handler(body);
    return new Response(json === undefined ? null : JSON.stringify(json), { status });
  };
});
afterEach(() => { globalThis.fetch = realFetch; });

/** The parts of an Uppy instance the adapter uses. */
function fakeUppy(files) {
  const byId = new Map(files.map((f) => [f.id, { progress: {}, ...f }]));
  const uppy = {
    events: [],
    processors: [],
    getFile: (id) => byId.get(id),
    setFileState: (id, patch) => byId.set(id, { ...byId.get(id), ...patch }),
    addPostProcessor: (fn) => uppy.processors.push(fn),
    emit: (name, ...args) => uppy.events.push([name, ...args]),
    /** Marks files uploaded, as @uppy/aws-s3 does, then runs the post-processors. */
    async finish(ids) {
      for (const id of ids) uppy.setFileState(id, { progress: { uploadComplete: true }, response: { status: 200, body: { location: 'loc', key: 'k' } } });
      for (const fn of uppy.processors) await fn(ids);
    },
  };
  return uppy;
}

const photo = { id: 'uppy-cat/jpg-1e-image/jpeg-2048', name: 'cat.jpg', size: 2048, type: 'image/jpeg', meta: { caption: 'hi' } };
const video = { id: 'uppy-clip/mp4-video/mp4', name: 'clip.mp4', size: 120 * MiB, type: 'video/mp4', meta: {} };
const record = (key, size) => ({ id: 'r1', bucket: 'b', key, size, contentType: 'image/jpeg', etag: 'E', filename: 'cat.jpg', vars: {}, createdAt: '2026-01-01T00:00:00Z' });
const opts = { baseURL: BASE, getToken: async () => 'tok', vars: (file) => file.meta.caption ? { caption: file.meta.caption } : undefined };

test('createQuery: the JSON create as a query, vars as x:NAME in name order', () => {
  const q = new URLSearchParams(createQuery({ name: 'a b&c.jpg', size: 5, type: 'image/jpeg' }, { z: '1', caption: 'é&=' }));
  assert.deepEqual([...q.entries()], [
    ['filename', 'a b&c.jpg'], ['size', '5'], ['contentType', 'image/jpeg'], ['x:caption', 'é&='], ['x:z', '1'],
  ]);
  assert.equal(createQuery({ name: 'a', size: 1, type: 't/x' }), 'filename=a&size=1&contentType=t%2Fx');
});

test('partsToSign: signs ahead, skips fresh URLs, re-signs those about to expire', () => {
  const now = 1_000_000;
  const cache = (entries) => new Map(entries.map(([n, left]) => [n, { expires: now + left }]));
  const cases = [
    { name: 'nothing cached', n: 1, count: 15, cache: [], ahead: 10, want: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
    { name: 'capped at the last part', n: 11, count: 15, cache: [], ahead: 10, want: [11, 12, 13, 14, 15] },
    { name: 'a fresh URL for n', n: 2, count: 15, cache: [[2, 5 * 60_000]], ahead: 10, want: [] },
    { name: 'n about to expire', n: 2, count: 4, cache: [[2, 30_000], [3, 5 * 60_000]], ahead: 10, want: [2, 4] },
    { name: 'one part', n: 1, count: 1, cache: [], ahead: 10, want: [1] },
    { name: 'ahead 1', n: 3, count: 9, cache: [], ahead: 1, want: [3] },
  ];
  for (const c of cases) assert.deepEqual(partsToSign(c.n, c.count, cache(c.cache), now, c.ahead), c.want, c.name);
});

test('awsS3Options: refuses what it cannot work with', () => {
  assert.throws(() => awsS3Options(undefined, opts), TypeError);
  assert.throws(() => awsS3Options({}, opts), TypeError);
  const uppy = fakeUppy([]);
  assert.throws(() => awsS3Options(uppy, { ...opts, method: 'PATCH' }), TypeError);
  assert.throws(() => awsS3Options(uppy, { ...opts, signAhead: 0 }), TypeError);
  assert.throws(() => awsS3Options(uppy, { ...opts, signAhead: 101 }), TypeError);
});

test('awsS3Options: keys by file id, chunks by ossgate part size, passes shouldUseMultipart', () => {
  const uppy = fakeUppy([photo]);
  const o = awsS3Options(uppy, opts);
  assert.equal(o.generateObjectKey(photo), photo.id);
  assert.equal(o.getChunkSize({ size: 120 * MiB }), 8 * MiB);
  assert.equal(o.getChunkSize({ size: 200_000 * MiB }), 20 * MiB);
  assert.equal('shouldUseMultipart' in o, false);
  assert.equal(awsS3Options(fakeUppy([]), { ...opts, shouldUseMultipart: false }).shouldUseMultipart, false);
  assert.equal(uppy.processors.length, 1);
});

test('PutObject, POST policy: the form for Uppy, the record by confirm after the upload', async () => {
  const uppy = fakeUppy([photo]);
  const { signRequest } = awsS3Options(uppy, opts);
  routes['POST /api/uploads/policy'] = () => [200, { method: 'POST', url: 'https://oss/b', fields: { key: 'uploads/u/1.jpg', policy: 'p' }, headers: {}, key: 'uploads/u/1.jpg', ticket: 'T' }];
  routes['POST /api/uploads/confirm'] = () => [200, { upload: record('uploads/u/1.jpg', 2048) }];

  const signed = await signRequest({ method: 'PUT', key: photo.id, contentType: 'image/jpeg' });
  assert.deepEqual(signed, { url: 'https://oss/b', fields: { key: 'uploads/u/1.jpg', policy: 'p' }, key: 'uploads/u/1.jpg' });
  assert.deepEqual(calls[0].body, { filename: 'cat.jpg', size: 2048, contentType: 'image/jpeg', vars: { caption: 'hi' } });
  assert.equal(calls[0].headers.Authorization, 'Bearer tok');

  await uppy.finish([photo.id]);
  assert.deepEqual(calls[1], { route: 'POST /api/uploads/confirm', body: { key: 'uploads/u/1.jpg', ticket: 'T', vars: { caption: 'hi' } }, headers: calls[1].headers });
  const file = uppy.getFile(photo.id);
  assert.deepEqual(file.response.body, { location: 'loc', key: 'k', upload: record('uploads/u/1.jpg', 2048) });
  assert.deepEqual(uppy.events.map((e) => e[0]), ['postprocess-progress', 'ossgate:upload', 'postprocess-complete']);
});

test('PutObject, presigned PUT: headers and no fields', async () => {
  const uppy = fakeUppy([photo]);
  const { signRequest } = awsS3Options(uppy, { ...opts, method: 'PUT' });
  routes['POST /api/uploads/presign'] = () => [200, { method: 'PUT', url: 'https://oss/b/k?sig', headers: { 'Content-Type': 'image/jpeg', 'x-oss-callback': 'cb' }, key: 'k', ticket: 'T' }];
  const signed = await signRequest({ method: 'PUT', key: photo.id, contentType: 'image/jpeg' });
  assert.deepEqual(signed, { url: 'https://oss/b/k?sig', headers: { 'Content-Type': 'image/jpeg', 'x-oss-callback': 'cb' }, key: 'k' });
  assert.equal(calls.length, 1);
});

test('a refused policy reaches Uppy as the OssgateError', async () => {
  const uppy = fakeUppy([photo]);
  const { signRequest } = awsS3Options(uppy, opts);
  routes['POST /api/uploads/policy'] = () => [422, { error: { code: 'file_too_large', message: 'too big' } }];
  await assert.rejects(signRequest({ method: 'PUT', key: photo.id }), (err) => err instanceof OssgateError && err.code === 'file_too_large' && err.status === 422);
  await assert.rejects(signRequest({ method: 'PUT', key: 'not-a-file' }), (err) => err instanceof OssgateError && err.code === 'invalid_request');
});

test('a failed confirmation makes the file fail', async () => {
  const uppy = fakeUppy([photo]);
  const { signRequest } = awsS3Options(uppy, opts);
  routes['POST /api/uploads/policy'] = () => [200, { url: 'https://oss/b', fields: { key: 'k' }, key: 'k', ticket: 'T' }];
  routes['POST /api/uploads/confirm'] = () => [403, { error: { code: 'object_mismatch', message: 'no' } }];
  await signRequest({ method: 'PUT', key: photo.id });
  await uppy.finish([photo.id]);
  const failed = uppy.events.find((e) => e[0] === 'upload-error');
  assert.ok(failed, 'no upload-error');
  assert.equal(failed[2].code, 'object_mismatch');
  assert.equal(uppy.getFile(photo.id).response.body.upload, undefined);
});

test('multipart: S3-dialect URLs with the token, parts signed ahead, complete through the JSON API', async () => {
  const uppy = fakeUppy([video]);
  const { signRequest } = awsS3Options(uppy, opts);
  const auth = { Authorization: 'Bearer tok' };

  const create = await signRequest({ method: 'POST', key: video.id });
  assert.deepEqual(create, { url: `${BASE}/api/uppy/multipart?filename=clip.mp4&size=${120 * MiB}&contentType=video%2Fmp4`, headers: auth });
  assert.equal(calls.length, 0, 'create is Uppy\'s own request');

  const expiresAt = new Date(Date.now() + 10 * 60_000).toISOString();
  routes['POST /api/uploads/multipart/U1/parts'] = (body) => [200, {
    parts: body.partNumbers.map((n) => ({ partNumber: n, method: 'PUT', url: `https://oss/b/k?partNumber=${n}`, headers: {}, size: 8 * MiB })), expiresAt,
  }];
  for (let n = 1; n <= 15; n++) {
    assert.deepEqual(await signRequest({ method: 'PUT', key: video.id, uploadId: 'U1', partNumber: n }), { url: `https://oss/b/k?partNumber=${n}`, headers: {} });
  }
  assert.deepEqual(calls.map((c) => c.body.partNumbers), [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15]]);

  assert.deepEqual(await signRequest({ method: 'GET', key: video.id, uploadId: 'U1' }), { url: `${BASE}/api/uppy/multipart/U1`, headers: auth });
  assert.deepEqual(await signRequest({ method: 'DELETE', key: video.id, uploadId: 'U1' }), { url: `${BASE}/api/uppy/multipart/U1`, headers: auth });

  routes['POST /api/uploads/multipart/U1/complete'] = () => [200, { upload: record('uploads/u/clip.mp4', 120 * MiB) }];
  assert.deepEqual(await signRequest({ method: 'POST', key: video.id, uploadId: 'U1' }), { url: `${BASE}/api/uppy/multipart/U1`, headers: auth });
  const before = calls.length;
  await uppy.finish([video.id]);
  assert.equal(calls.length, before, 'the record came with the complete');
  assert.equal(uppy.getFile(video.id).response.body.upload.key, 'uploads/u/clip.mp4');
});

test('multipart complete: upload_closed goes on to the S3 route, other refusals stop', async () => {
  const uppy = fakeUppy([video]);
  const { signRequest } = awsS3Options(uppy, opts);
  routes['POST /api/uploads/multipart/U1/complete'] = () => [409, { error: { code: 'upload_closed', message: 'completed' } }];
  assert.equal((await signRequest({ method: 'POST', key: video.id, uploadId: 'U1' })).url, `${BASE}/api/uppy/multipart/U1`);
  routes['GET /api/uploads/multipart/U1'] = () => [200, { uploadId: 'U1', state: 'completed', upload: record('k', 1) }];
  await uppy.finish([video.id]);
  assert.equal(uppy.getFile(video.id).response.body.upload.key, 'k', 'the record from the status');

  routes['POST /api/uploads/multipart/U2/complete'] = () => [409, { error: { code: 'upload_incomplete', message: 'Parts missing: 3.' } }];
  await assert.rejects(signRequest({ method: 'POST', key: video.id, uploadId: 'U2' }), (err) => err.code === 'upload_incomplete');
});

test('ossgateError: the code behind an error Uppy reports', () => {
  class S3ServiceError extends Error {
    constructor(status, body) { super(`S3 returned ${status}`); this.status = status; this.body = body; }
  }
  const cases = [
    { name: 'ossgate JSON', err: new S3ServiceError(409, '{"error":{"code":"upload_incomplete","message":"Parts missing: 2."}}'), code: 'upload_incomplete', status: 409 },
    { name: 'OSS XML', err: new S3ServiceError(403, '<Error><Code>AccessDenied</Code><Message>no</Message></Error>'), code: 'AccessDenied', status: 403 },
    { name: 'no body', err: new S3ServiceError(502, undefined), code: 'http_error', status: 502 },
    { name: 'already ossgate\'s', err: new OssgateError('file_too_large', 'big', { status: 422 }), code: 'file_too_large', status: 422 },
    { name: 'network', err: Object.assign(new Error('Network error'), { name: 'S3NetworkError' }), code: 'network_error', status: 0 },
    { name: 'anything else', err: new Error('boom'), code: 'http_error', status: 0 },
  ];
  for (const c of cases) {
    const got = ossgateError(c.err);
    assert.ok(got instanceof OssgateError, c.name);
    assert.equal(got.code, c.code, c.name);
    assert.equal(got.status, c.status, c.name);
  }
});
