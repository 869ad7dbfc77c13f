// Tests of ossgate.js without a browser or server: node --test static/
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  OssgateError, requestUpload, upload, listUploads, devToken, confirmUpload, downloadURL, remove,
  buildFormData, parseError, parseOssXml, parseUploadResponse,
} from './ossgate.js';
import { FakeXHR } from './fakes.mjs';

const policy = {
  method: 'POST',
  url: 'http://127.0.0.1:9000',
  fields: {
    key: 'uploads/alice/2026/11/25/01JD.txt',
    policy: 'cG9saWN5',
    'x-oss-signature-version': 'OSS4-HMAC-SHA256',
    'x-oss-credential': 'id/20261125/cn-hangzhou/oss/aliyun_v4_request',
    'x-oss-date': '20261125T083000Z',
    'x-oss-signature': 'abc',
    success_action_status: '200',
    'Content-Type': 'text/plain',
    callback: 'Y2I=',
    'x:caption': 'hi',
  },
  headers: { 'x-test': '1' },
  key: 'uploads/alice/2026/11/25/01JD.txt',
  expiresAt: '2026-11-25T08:40:00Z',
  maxSize: 5,
};
const record = { id: '1', bucket: 'b', key: policy.key, size: 5, contentType: 'text/plain', etag: '"E"', filename: 'a.txt', vars: {}, createdAt: '2026-11-25T08:30:00Z' };
const ossXml = (code, msg) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${msg}</Message>\n  <RequestId>R1</RequestId>\n</Error>`;

// --- fakes ---

let fetchCalls;
let fetchAnswers;
const realFetch = globalThis.fetch;

function answer(status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Response(text, { status, headers: { 'Content-Type': 'application/json' } });
}

beforeEach(() => {
  fetchCalls = [];
  fetchAnswers = [];
  globalThis.fetch = async (url, init) => {
    fetchCalls.push({ url, init });
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const a = fetchAnswers.shift();
    if (a instanceof Error) throw a;
    return a || answer(200, policy);
  };
  globalThis.XMLHttpRequest = FakeXHR;
  FakeXHR.reset();
  FakeXHR.respond = (xhr) => xhr.finish(200, JSON.stringify({ upload: record }));
});
afterEach(() => {
  globalThis.fetch = realFetch;
  delete globalThis.XMLHttpRequest;
  delete globalThis.DOMParser;
});

const file = () => new File(['hello'], 'a.txt', { type: 'text/plain' });

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof OssgateError, `not an OssgateError: ${err}`);
    assert.equal(err.code, code);
    return true;
  });
}

// --- error parsing ---

test('parseOssXml reads Code, Message and RequestId with the regex fallback', () => {
  assert.deepEqual(parseOssXml(ossXml('AccessDenied', 'Invalid according to Policy: Policy expired.')), {
    code: 'AccessDenied', message: 'Invalid according to Policy: Policy expired.', requestId: 'R1',
  });
  assert.equal(parseOssXml(ossXml('X', 'a &lt;b&gt; &amp;amp; &#65;')).message, 'a <b> &amp; A');
  assert.equal(parseOssXml('<html>oops</html>'), null);
  assert.equal(parseOssXml(''), null);
});

test('parseOssXml prefers DOMParser when present', () => {
  let used = false;
  globalThis.DOMParser = class {
    parseFromString() {
      used = true;
      const values = { Code: 'FromDom', Message: 'm', RequestId: 'r' };
      return { getElementsByTagName: (t) => (t in values ? [{ textContent: values[t] }] : []) };
    }
  };
  assert.equal(parseOssXml(ossXml('FromRegex', 'm')).code, 'FromDom');
  assert.ok(used);
});

test('parseError: ossgate JSON, OSS XML, anything else', () => {
  const j = parseError(422, JSON.stringify({ error: { code: 'file_too_large', message: 'size is over 5 bytes' } }));
  assert.ok(j instanceof OssgateError && j instanceof Error);
  assert.deepEqual([j.code, j.status, j.message, j.name], ['file_too_large', 422, 'size is over 5 bytes', 'OssgateError']);
  const x = parseError(403, ossXml('SignatureDoesNotMatch', 'The request signature we calculated does not match'));
  assert.deepEqual([x.code, x.status, x.message, x.requestId], ['SignatureDoesNotMatch', 403, 'The request signature we calculated does not match', 'R1']);
  const o = parseError(502, '<html>Bad gateway</html>');
  assert.deepEqual([o.code, o.status], ['http_error', 502]);
});

test('parseUploadResponse', () => {
  assert.deepEqual(parseUploadResponse(200, JSON.stringify({ upload: record })), record);
  const cases = [
    [203, ossXml('CallbackFailed', 'Error status : 403.'), 'CallbackFailed'],
    [203, '', 'CallbackFailed'],
    [400, ossXml('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.'), 'EntityTooLarge'],
    [403, ossXml('AccessDenied', 'Policy expired.'), 'AccessDenied'],
    [403, JSON.stringify({ error: { code: 'invalid_ticket', message: 'no' } }), 'invalid_ticket'],
    [200, '', 'invalid_response'],
    [200, '{"ok":true}', 'invalid_response'],
    [0, '', 'network_error'],
  ];
  for (const [status, text, code] of cases) {
    assert.throws(() => parseUploadResponse(status, text), (e) => e instanceof OssgateError && e.code === code, `${status} ${text}`);
  }
  assert.throws(() => parseUploadResponse(203, ossXml('CallbackFailed', 'Error status : 403.')),
    (e) => /stored/.test(e.message) && /Error status : 403/.test(e.message) && e.status === 203);
});

// --- form ---

test('buildFormData sends every field in order, then the file last as "file"', () => {
  const f = file();
  const form = buildFormData(policy, f);
  const entries = [...form.entries()];
  assert.deepEqual(entries.slice(0, -1).map(([k, v]) => [k, v]), Object.entries(policy.fields));
  const [name, value] = entries.at(-1);
  assert.equal(name, 'file');
  assert.equal(value.name, 'a.txt');
  assert.equal(value.size, 5);
});

// --- API calls ---

test('requestUpload posts the file description with the bearer token', async () => {
  const got = await requestUpload(file(), { baseURL: 'http://gw', getToken: async () => 'T', vars: { caption: 'hi' } });
  assert.deepEqual(got, policy);
  const { url, init } = fetchCalls[0];
  assert.equal(url, 'http://gw/api/uploads/policy');
  assert.equal(init.method, 'POST');
  assert.equal(init.headers.Authorization, 'Bearer T');
  assert.equal(init.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(init.body), { filename: 'a.txt', size: 5, contentType: 'text/plain', vars: { caption: 'hi' } });
});

test('requestUpload defaults the content type and rejects server errors', async () => {
  fetchAnswers.push(answer(401, { error: { code: 'unauthorized', message: 'token expired' } }));
  await assert.rejects(requestUpload(new File(['x'], 'blob.bin'), { token: 'T' }), (e) =>
    e instanceof OssgateError && e.code === 'unauthorized' && e.status === 401 && e.message === 'token expired');
  assert.equal(JSON.parse(fetchCalls[0].init.body).contentType, 'application/octet-stream');
  assert.equal(fetchCalls[0].url, '/api/uploads/policy');

  fetchAnswers.push(new TypeError('fetch failed'));
  await rejectsWith(requestUpload(file(), { token: 'T' }), 'network_error');
});

test('upload: policy, then the form to policy.url, with progress, resolving the record', async () => {
  const progress = [];
  let seen;
  const got = await upload(file(), { token: 'T', onPolicy: (p) => { seen = p; }, onProgress: (p) => progress.push(p) });
  assert.deepEqual(got, record);
  assert.deepEqual(seen, policy);
  const xhr = FakeXHR.last;
  assert.equal(xhr.method, 'POST');
  assert.equal(xhr.url, policy.url);
  assert.deepEqual(xhr.headers, { 'x-test': '1' });
  assert.deepEqual([...xhr.body.keys()].at(-1), 'file');
  assert.deepEqual(progress, [{ loaded: 50, total: 100, fraction: 0.5 }, { loaded: 100, total: 100, fraction: 1 }]);
});

test('upload maps OSS and network failures to OssgateError codes', async () => {
  FakeXHR.respond = (xhr) => xhr.finish(403, ossXml('AccessDenied', 'Invalid according to Policy'));
  await rejectsWith(upload(file(), { token: 'T' }), 'AccessDenied');
  FakeXHR.respond = (xhr) => xhr.onerror();
  await rejectsWith(upload(file(), { token: 'T' }), 'network_error');
  // A policy without a ticket (an older server) cannot be confirmed.
  FakeXHR.respond = (xhr) => xhr.finish(203, ossXml('CallbackFailed', 'Error status : 502.'));
  await rejectsWith(upload(file(), { token: 'T' }), 'CallbackFailed');
  assert.equal(fetchCalls.filter((c) => c.url.endsWith('/confirm')).length, 0);
});

test('upload confirms an object OSS stored when the callback failed (203)', async () => {
  const withTicket = { ...policy, ticket: 'TICKET' };
  const cases = [
    { name: 'confirmed', answers: [answer(200, { upload: record })], want: record },
    { name: 'confirm retried after 503', answers: [answer(503, { error: { code: 'oss_unavailable', message: 'later' } }), answer(200, { upload: record })], want: record, confirms: 2 },
    { name: 'confirm refused', answers: [answer(403, { error: { code: 'object_mismatch', message: 'no' } })], code: 'object_mismatch' },
    { name: 'no object', answers: [answer(404, { error: { code: 'not_found', message: 'none' } })], code: 'not_found' },
  ];
  for (const tc of cases) {
    fetchCalls = [];
    fetchAnswers = [answer(200, withTicket), ...tc.answers];
    FakeXHR.respond = (xhr) => xhr.finish(203, ossXml('CallbackFailed', 'Error status : 502.'));
    const run = upload(file(), { token: 'T', vars: { caption: 'hi' }, retryDelays: [0, 0] });
    if (tc.code) await rejectsWith(run, tc.code);
    else assert.deepEqual(await run, tc.want, tc.name);
    const confirms = fetchCalls.filter((c) => c.url === '/api/uploads/confirm');
    assert.equal(confirms.length, tc.confirms || 1, tc.name);
    assert.equal(confirms[0].init.method, 'POST');
    assert.equal(confirms[0].init.headers.Authorization, 'Bearer T');
    assert.deepEqual(JSON.parse(confirms[0].init.body), { key: policy.key, ticket: 'TICKET', vars: { caption: 'hi' } }, tc.name);
  }
  // Other failures are not confirmed.
  fetchCalls = [];
  fetchAnswers = [answer(200, withTicket)];
  FakeXHR.respond = (xhr) => xhr.finish(400, ossXml('EntityTooLarge', 'too big'));
  await rejectsWith(upload(file(), { token: 'T' }), 'EntityTooLarge');
  assert.equal(fetchCalls.length, 1);
});

test('confirmUpload needs an upload record in the answer', async () => {
  fetchAnswers.push(answer(200, { ok: true }));
  await rejectsWith(confirmUpload({ key: 'k', ticket: 't' }, { token: 'T' }), 'invalid_response');
});

test('downloadURL and remove', async () => {
  fetchAnswers.push(answer(200, { url: 'http://127.0.0.1:9000/uploads/a.png?x-oss-signature=s', expiresAt: '2026-11-25T08:40:00Z' }));
  assert.deepEqual(await downloadURL('id/1', { token: 'T', style: 'thumb', disposition: 'inline' }),
    { url: 'http://127.0.0.1:9000/uploads/a.png?x-oss-signature=s', expiresAt: '2026-11-25T08:40:00Z' });
  assert.equal(fetchCalls[0].url, '/api/uploads/id%2F1/url?disposition=inline&style=thumb');
  assert.equal(fetchCalls[0].init.method, 'GET');
  assert.equal(fetchCalls[0].init.headers.Authorization, 'Bearer T');

  fetchAnswers.push(answer(200, { url: 'javascript:alert(1)' }));
  await rejectsWith(downloadURL('1', { token: 'T' }), 'invalid_response');
  assert.equal(fetchCalls[1].url, '/api/uploads/1/url');
  fetchAnswers.push(answer(400, { error: { code: 'invalid_request', message: 'unknown style' } }));
  await rejectsWith(downloadURL('1', { token: 'T', style: 'nope' }), 'invalid_request');

  fetchAnswers.push(new Response(null, { status: 204 }));
  assert.equal(await remove('r1', { token: 'T' }), undefined);
  assert.equal(fetchCalls[3].url, '/api/uploads/r1');
  assert.equal(fetchCalls[3].init.method, 'DELETE');
  fetchAnswers.push(answer(404, { error: { code: 'not_found', message: 'gone' } }));
  await rejectsWith(remove('r1', { token: 'T' }), 'not_found');
});

test('upload can be aborted before and during the POST', async () => {
  const before = new AbortController();
  before.abort();
  await rejectsWith(upload(file(), { token: 'T', signal: before.signal }), 'aborted');
  assert.equal(fetchCalls.length, 0);

  const during = new AbortController();
  FakeXHR.respond = () => during.abort(); // never finishes on its own
  await rejectsWith(upload(file(), { token: 'T', signal: during.signal }), 'aborted');
  assert.ok(FakeXHR.last.aborted);
});

test('listUploads and devToken', async () => {
  fetchAnswers.push(answer(200, { uploads: [record], nextCursor: 'c2' }));
  assert.deepEqual(await listUploads({ token: 'T', limit: 20, cursor: 'c1' }), { uploads: [record], nextCursor: 'c2' });
  assert.equal(fetchCalls[0].url, '/api/uploads?limit=20&cursor=c1');
  assert.equal(fetchCalls[0].init.method, 'GET');
  assert.equal(fetchCalls[0].init.body, undefined);

  fetchAnswers.push(answer(200, { token: 'JWT' }));
  assert.equal(await devToken('alice'), 'JWT');
  assert.equal(fetchCalls[1].url, '/api/dev/token');
  assert.deepEqual(JSON.parse(fetchCalls[1].init.body), { sub: 'alice' });
  assert.equal(fetchCalls[1].init.headers.Authorization, undefined);

  fetchAnswers.push(answer(404, { error: { code: 'not_found', message: 'not found' } }));
  await rejectsWith(devToken('alice'), 'not_found');
});
