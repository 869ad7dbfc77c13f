// Multipart uploads of ossgate.js against an in-memory ossgate + OSS (fakes.mjs).
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  OssgateError, upload, uploadMultipart, partSizeFor, fingerprint,
  DEFAULT_PART_SIZE, DEFAULT_MULTIPART_THRESHOLD, MAX_PARTS,
} from './ossgate.js';
import { FakeXHR, FakeServer, MemoryStorage, apiError, answer } from './fakes.mjs';

const MiB = 1 << 20;
const realFetch = globalThis.fetch;
let server;
let storage;

beforeEach(() => {
  server = new FakeServer();
  storage = new MemoryStorage();
  globalThis.fetch = server.fetch;
  globalThis.XMLHttpRequest = FakeXHR;
  FakeXHR.reset();
  FakeXHR.respond = server.respondXHR;
});
afterEach(() => {
  globalThis.fetch = realFetch;
  delete globalThis.XMLHttpRequest;
});

// 10 bytes in parts of 4: 4 + 4 + 2.
const content = '0123456789';
const bigFile = (opts = {}) => new File([opts.content ?? content], opts.name ?? 'big.bin', { type: 'application/octet-stream', lastModified: opts.lastModified ?? 1700000000000 });
const base = (extra = {}) => ({ token: 'T', storage, retryDelays: [0, 0, 0], multipartThreshold: 5, ...extra });
const calls = (method, re) => server.calls.filter((c) => c.method === method && re.test(c.path));

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof OssgateError, `not an OssgateError: ${err}`);
    assert.equal(err.code, code);
    return true;
  });
}

test('partSizeFor mirrors policy.PartSize', () => {
  const cases = [
    [0, 8 * MiB],
    [1, 8 * MiB],
    [8 * MiB * 10000, 8 * MiB], // exactly 10000 parts of 8 MiB
    [8 * MiB * 10000 + 1, 9 * MiB], // one byte more: 8 MiB + 1 per part, rounded up to whole MiB
    [9 * MiB * 10000, 9 * MiB],
    [9 * MiB * 10000 + 1, 10 * MiB],
    [5 * 1024 * 1024 * MiB, 525 * MiB], // 5 TiB: ceil(524.288 MiB)
    [48.8e12, 4654 * MiB], // OSS's largest object
  ];
  for (const [size, want] of cases) {
    const got = partSizeFor(size);
    assert.equal(got, want, `partSizeFor(${size})`);
    assert.ok(Math.ceil(size / got) <= MAX_PARTS, `${size} takes more than ${MAX_PARTS} parts`);
  }
  assert.equal(DEFAULT_PART_SIZE, 8 * MiB);
  assert.equal(DEFAULT_MULTIPART_THRESHOLD, 100 * MiB);
  for (const bad of [-1, 1.5, NaN, '10', 2 ** 53]) {
    assert.throws(() => partSizeFor(bad), (e) => e instanceof OssgateError && e.code === 'invalid_request', String(bad));
  }
});

test('fingerprint is name, size, lastModified and type', () => {
  const fp = fingerprint(bigFile());
  assert.equal(fp, fingerprint(bigFile()));
  assert.deepEqual(JSON.parse(fp), ['big.bin', 10, 1700000000000, 'application/octet-stream']);
  const others = [bigFile({ name: 'other.bin' }), bigFile({ lastModified: 1 }), bigFile({ content: '01234567890' }),
    new File([content], 'big.bin', { type: 'text/plain', lastModified: 1700000000000 })];
  for (const f of others) assert.notEqual(fingerprint(f), fp, f.name);
  assert.deepEqual(JSON.parse(fingerprint({ size: 3 })), ['', 3, 0, '']);
});

test('upload stays a form up to the threshold and goes multipart above it', async () => {
  FakeXHR.respond = (xhr) => (xhr.method === 'POST'
    ? xhr.finish(200, JSON.stringify({ upload: { id: 'form' } }))
    : server.respondXHR(xhr));
  server.onApi = (method, path) => (path === '/api/uploads/policy' ? answer(200, { method: 'POST', url: 'http://oss', fields: {}, headers: {}, key: 'k' }) : undefined);
  assert.equal((await upload(bigFile(), base({ multipartThreshold: 10 }))).id, 'form');
  assert.equal(calls('POST', /multipart/).length, 0);
  assert.equal((await upload(bigFile(), base({ multipartThreshold: 9 }))).id, 'rup1');
  assert.equal(calls('POST', /\/policy$/).length, 1);
});

test('a multipart upload sends every part, in parallel, with progress across parts', async () => {
  const progress = [];
  let session;
  const file = bigFile({ content: 'abcdefghijklmnopqrstuvw' }); // 23 bytes: 6 parts, the last 3
  const rec = await uploadMultipart(file, base({ concurrency: 2, vars: { caption: 'hi' }, onProgress: (p) => progress.push(p), onSession: (s) => { session = s; } }));
  assert.equal(rec.key, 'uploads/alice/up1.bin');
  assert.deepEqual(calls('POST', /multipart$/)[0].body, { filename: 'big.bin', size: 23, contentType: 'application/octet-stream', vars: { caption: 'hi' } });
  assert.equal(session.resumedParts, 0);
  assert.equal(session.partCount, 6);
  assert.deepEqual(server.puts.map((p) => p.n).sort(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(server.puts.map((p) => p.size).sort(), [3, 4, 4, 4, 4, 4]);
  assert.equal(FakeXHR.maxInFlight, 2);
  assert.ok(FakeXHR.all.every((x) => x.method === 'PUT'));
  assert.equal(await server.object('up1'), 'abcdefghijklmnopqrstuvw');
  // Signing runs ahead in batches (2 × concurrency), not once per part.
  assert.equal(calls('POST', /\/parts$/).length, 2);
  assert.equal(calls('POST', /\/complete$/).length, 1);
  // Progress only grows, counts parts, and ends at 1.
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].loaded >= progress[i - 1].loaded, `progress went back at ${i}`);
  assert.deepEqual(progress.at(-1), { loaded: 23, total: 23, fraction: 1, partsDone: 6, partCount: 6 });
  assert.ok(progress.some((p) => p.loaded > 0 && p.loaded % 4 !== 0), 'no progress from inside a part');
  assert.equal(storage.length, 0, 'the session is forgotten once complete');
});

test('a failed part is retried with backoff; a part failing every time fails the upload', async () => {
  const cases = [
    { name: 'network error, then 503, then ok', fails: [(x) => x.fail(), (x) => x.finish(503, '<Error><Code>ServiceUnavailable</Code></Error>')], ok: true, putsOf2: 3, signs: 1 },
    { name: '403 (expired URL) is signed again', fails: [(x) => x.finish(403, '<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>')], ok: true, putsOf2: 2, signs: 2 },
    { name: 'always failing', fails: [(x) => x.fail(), (x) => x.fail(), (x) => x.fail(), (x) => x.fail()], code: 'network_error', putsOf2: 4 },
    { name: 'a 400 is not retried', fails: [(x) => x.finish(400, '<Error><Code>InvalidArgument</Code></Error>')], code: 'InvalidArgument', putsOf2: 1 },
  ];
  for (const tc of cases) {
    server = new FakeServer();
    globalThis.fetch = server.fetch;
    FakeXHR.respond = server.respondXHR;
    storage = new MemoryStorage();
    server.failPut = (xhr, n, attempt) => {
      if (n !== 2 || !tc.fails[attempt]) return false;
      tc.fails[attempt](xhr);
      return true;
    };
    const run = uploadMultipart(bigFile(), base({ concurrency: 1 }));
    if (tc.ok) {
      assert.equal((await run).key, 'uploads/alice/up1.bin', tc.name);
      assert.equal(await server.object('up1'), content, tc.name);
      const urls = server.puts.filter((p) => p.n === 2).map((p) => p.url);
      assert.equal(new Set(urls).size, tc.signs, `${tc.name}: distinct URLs ${urls}`);
    } else {
      await rejectsWith(run, tc.code);
      assert.equal(storage.length, 1, `${tc.name}: the session stays remembered for a resume`);
      assert.equal(calls('POST', /\/complete$/).length, 0, tc.name);
      assert.equal(calls('DELETE', /./).length, 0, tc.name);
    }
    assert.equal(server.puts.filter((p) => p.n === 2).length, tc.putsOf2, tc.name);
  }
});

test('retries wait retryDelays between attempts', async () => {
  server.failPut = (xhr, n, attempt) => n === 1 && attempt < 2 && (xhr.fail(), true);
  const started = Date.now();
  await uploadMultipart(bigFile(), base({ concurrency: 1, retryDelays: [60, 60, 60] }));
  const waited = Date.now() - started;
  assert.ok(waited >= 115, `two retries took ${waited} ms, want at least 2 × 60`);
  assert.equal(server.puts.filter((p) => p.n === 1).length, 3);
});

test('the same file resumes: only the parts OSS lacks are sent', async () => {
  // First try: part 3 fails for good, parts 1 and 2 land.
  server.failPut = (xhr, n) => n === 3 && (xhr.fail(), true);
  await rejectsWith(uploadMultipart(bigFile(), base({ concurrency: 1, retryDelays: [] })), 'network_error');
  assert.equal(storage.length, 1);
  const putsBefore = server.puts.length;

  // "After a reload": a new File object for the same file on disk.
  server.failPut = () => false;
  const progress = [];
  let session;
  const rec = await uploadMultipart(bigFile(), base({ onProgress: (p) => progress.push(p), onSession: (s) => { session = s; } }));
  assert.equal(rec.key, 'uploads/alice/up1.bin');
  assert.equal(calls('POST', /multipart$/).length, 1, 'no second session');
  assert.equal(calls('GET', /multipart\/up1$/).length, 1, 'asked what OSS holds');
  assert.deepEqual(server.puts.slice(putsBefore).map((p) => p.n), [3]);
  assert.equal(session.resumedParts, 2);
  assert.equal(progress[0].loaded, 8, 'progress starts at the parts already there');
  assert.equal(progress[0].partsDone, 2);
  assert.equal(await server.object('up1'), content);
  assert.equal(storage.length, 0);
});

test('a remembered session is dropped when it is gone, closed, expired or for other vars', async () => {
  const cases = [
    { name: 'gone (404)', spoil: (s) => server.sessions.delete(s.uploadId) },
    { name: 'aborted', spoil: (s) => { s.state = 'aborted'; } },
    { name: 'expiring', spoil: () => {
      const [k, v] = [...storage.map][0];
      storage.setItem(k, JSON.stringify({ ...JSON.parse(v), expiresAt: new Date(Date.now() + 60e3).toISOString() }));
    }, asks: 0 },
    { name: 'garbage', spoil: () => storage.setItem([...storage.map.keys()][0], '{"uploadId":'), asks: 0 },
  ];
  for (const tc of cases) {
    server = new FakeServer();
    globalThis.fetch = server.fetch;
    FakeXHR.respond = server.respondXHR;
    storage = new MemoryStorage();
    server.failPut = (xhr, n) => n === 3 && (xhr.fail(), true);
    await rejectsWith(uploadMultipart(bigFile(), base({ retryDelays: [] })), 'network_error');
    tc.spoil(server.sessions.get('up1'));
    server.failPut = () => false;
    const rec = await uploadMultipart(bigFile(), base());
    assert.equal(rec.key, 'uploads/alice/up2.bin', tc.name);
    assert.equal(calls('GET', /multipart\/up1$/).length, tc.asks ?? 1, tc.name);
    assert.equal(await server.object('up2'), content, tc.name);
    assert.equal(storage.length, 0, tc.name);
  }
  // Other vars are another upload, not a resume.
  server.failPut = (xhr, n) => n === 3 && (xhr.fail(), true);
  await rejectsWith(uploadMultipart(bigFile(), base({ retryDelays: [], vars: { a: '1' } })), 'network_error');
  server.failPut = () => false;
  assert.equal((await uploadMultipart(bigFile(), base({ vars: { a: '2' } }))).vars.a, '2');
});

test('a session completed before the page heard of it resolves with its record', async () => {
  // The complete answer is lost: OSS and ossgate finished, the browser saw a network error.
  let lost = true;
  server.onApi = (method, path, body) => {
    if (!path.endsWith('/complete') || !lost) return undefined;
    lost = false;
    server.route(method, path, body);
    throw new TypeError('fetch failed');
  };
  const rec = await uploadMultipart(bigFile(), base());
  assert.equal(rec.key, 'uploads/alice/up1.bin');
  assert.equal(calls('POST', /\/complete$/).length, 2, 'the retry answered upload_closed');
  assert.equal(calls('GET', /^\/api\/uploads$/).length, 1, 'found the record in the list');
  assert.equal(server.records.length, 1);
  assert.equal(storage.length, 0);
});

test('complete answering upload_incomplete sends what OSS lacks, once', async () => {
  let dropped = false;
  server.onApi = (method, path) => {
    if (path.endsWith('/complete') && !dropped) {
      dropped = true;
      server.sessions.get('up1').held.delete(2); // OSS lost part 2
    }
    return undefined;
  };
  const rec = await uploadMultipart(bigFile(), base());
  assert.equal(rec.key, 'uploads/alice/up1.bin');
  assert.deepEqual(server.puts.map((p) => p.n).sort(), [1, 2, 2, 3]);
  assert.equal(calls('POST', /\/complete$/).length, 2);

  // A session that never completes stops after one more round.
  server = new FakeServer();
  globalThis.fetch = server.fetch;
  FakeXHR.respond = server.respondXHR;
  server.onApi = (method, path) => (path.endsWith('/complete') ? apiError(409, 'upload_incomplete', 'Parts missing: 1.') : undefined);
  await rejectsWith(uploadMultipart(bigFile(), base()), 'upload_incomplete');
  assert.equal(calls('POST', /\/complete$/).length, 2);
});

test('abort stops the parts and deletes the session, unless keepOnAbort', async () => {
  for (const keepOnAbort of [false, true]) {
    server = new FakeServer();
    globalThis.fetch = server.fetch;
    storage = new MemoryStorage();
    const ctrl = new AbortController();
    FakeXHR.respond = (xhr) => (xhr.url.includes('partNumber=1') ? server.respondXHR(xhr) : ctrl.abort());
    await rejectsWith(uploadMultipart(bigFile(), base({ concurrency: 1, keepOnAbort, signal: ctrl.signal })), 'aborted');
    assert.ok(FakeXHR.last.aborted);
    assert.equal(calls('DELETE', /multipart\/up1$/).length, keepOnAbort ? 0 : 1, `keepOnAbort ${keepOnAbort}`);
    assert.equal(server.sessions.get('up1').state, keepOnAbort ? 'open' : 'aborted');
    assert.equal(storage.length, keepOnAbort ? 1 : 0);
    assert.equal(calls('POST', /\/complete$/).length, 0);
  }
});

test('a session that does not fit the file is refused before any part', async () => {
  server.onApi = (method, path) => (method === 'POST' && path === '/api/uploads/multipart'
    ? answer(200, { uploadId: 'u', key: 'k', size: 10, partSize: 1, partCount: 3, expiresAt: '2099-01-01T00:00:00Z', state: 'open' })
    : undefined);
  await rejectsWith(uploadMultipart(bigFile(), base()), 'invalid_response');
  assert.equal(server.puts.length, 0);
});

test('a server without multipart gets a form', async () => {
  server.onApi = (method, path) => {
    if (path === '/api/uploads/multipart') return apiError(404, 'not_found', 'Not Found');
    if (path === '/api/uploads/policy') return answer(200, { method: 'POST', url: 'http://oss', fields: { key: 'k' }, headers: {}, key: 'k' });
    return undefined;
  };
  FakeXHR.respond = (xhr) => xhr.finish(200, JSON.stringify({ upload: { id: 'form' } }));
  assert.equal((await upload(bigFile(), base())).id, 'form');
  await rejectsWith(uploadMultipart(bigFile(), base()), 'multipart_unsupported');
});
