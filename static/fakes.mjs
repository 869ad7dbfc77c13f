// Fakes for the node tests of ossgate.js (not served, not embedded): an
// XMLHttpRequest, a fetch router, a Storage, and an ossgate + OSS pair that
// keeps multipart sessions the way the server contract says.

/** A fake XMLHttpRequest; `FakeXHR.respond(xhr)` decides how each send ends. */
export class FakeXHR {
  static all = [];
  static last;
  static inFlight = 0;
  static maxInFlight = 0;
  static respond = (xhr) => xhr.finish(200, '');
  static reset() {
    FakeXHR.all = [];
    FakeXHR.last = undefined;
    FakeXHR.inFlight = 0;
    FakeXHR.maxInFlight = 0;
  }
  headers = {};
  upload = {};
  status = 0;
  responseText = '';
  responseHeaders = {};
  open(method, url) { this.method = method; this.url = url; }
  setRequestHeader(k, v) { this.headers[k] = v; }
  getResponseHeader(k) { return this.responseHeaders[k.toLowerCase()] ?? null; }
  send(body) {
    this.body = body;
    FakeXHR.last = this;
    FakeXHR.all.push(this);
    FakeXHR.inFlight++;
    FakeXHR.maxInFlight = Math.max(FakeXHR.maxInFlight, FakeXHR.inFlight);
    queueMicrotask(() => FakeXHR.respond(this));
  }
  abort() {
    if (this.ended) return;
    this.aborted = true;
    this.end();
    queueMicrotask(() => this.onabort && this.onabort());
  }
  end() {
    if (!this.ended) FakeXHR.inFlight--;
    this.ended = true;
  }
  /** Answers with status and body, after half, then all, of the upload progress. */
  finish(status, text, headers = {}) {
    if (this.aborted || this.ended) return;
    const total = this.body && typeof this.body.size === 'number' ? this.body.size : 100;
    this.upload.onprogress?.({ lengthComputable: true, loaded: Math.floor(total / 2), total });
    this.end();
    this.status = status;
    this.responseText = text;
    this.responseHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    this.onload();
  }
  fail() {
    if (this.aborted || this.ended) return;
    this.end();
    this.onerror();
  }
}

/** Storage backed by a Map, like localStorage. */
export class MemoryStorage {
  map = new Map();
  get length() { return this.map.size; }
  key(i) { return [...this.map.keys()][i] ?? null; }
  getItem(k) { return this.map.has(k) ? this.map.get(k) : null; }
  setItem(k, v) { this.map.set(k, String(v)); }
  removeItem(k) { this.map.delete(k); }
}

export function answer(status, body) {
  if (status === 204) return new Response(null, { status });
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Response(text, { status, headers: { 'Content-Type': 'application/json' } });
}

export const apiError = (status, code, message = code) => answer(status, { error: { code, message } });

/**
 * ossgate's multipart endpoints and OSS's UploadPart, in memory. Sessions
 * use a tiny part size so tests stay small; `calls` logs every API call,
 * `puts` every part PUT. Hooks: `failPut(xhr, n, attempt)` may answer a PUT
 * itself (return true), `onApi(method, path, body)` may answer an API call.
 */
export class FakeServer {
  sessions = new Map();
  calls = [];
  puts = [];
  signed = 0;
  records = [];
  partSize = 4;
  failPut = () => false;
  onApi = () => undefined;
  #next = 1;

  fetch = async (url, init) => {
    const u = new URL(url, 'http://gw');
    const body = init.body ? JSON.parse(init.body) : undefined;
    this.calls.push({ method: init.method, path: u.pathname, query: u.search, body, auth: init.headers.Authorization });
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const hooked = this.onApi(init.method, u.pathname, body);
    if (hooked) return hooked;
    return this.route(init.method, u.pathname, body);
  };

  route(method, path, body) {
    if (method === 'POST' && path === '/api/uploads/multipart') {
      const id = 'up' + this.#next++;
      const s = {
        uploadId: id, key: `uploads/alice/${id}.bin`, size: body.size, partSize: this.partSize,
        partCount: Math.ceil(body.size / this.partSize), expiresAt: new Date(Date.now() + 86400e3).toISOString(),
        state: 'open', held: new Map(), body,
      };
      this.sessions.set(id, s);
      return answer(200, this.dto(s));
    }
    if (method === 'GET' && path === '/api/uploads') {
      return answer(200, { uploads: this.records.slice().reverse(), nextCursor: null });
    }
    const m = /^\/api\/uploads\/multipart\/([^/]+)(\/parts|\/complete)?$/.exec(path);
    if (!m) return apiError(404, 'not_found');
    const s = this.sessions.get(decodeURIComponent(m[1]));
    if (!s) return apiError(404, 'not_found');
    if (method === 'GET' && !m[2]) {
      return answer(200, { ...this.dto(s), parts: [...s.held].map(([n, b]) => ({ partNumber: n, etag: `"E${n}"`, size: b.size })) });
    }
    if (s.state !== 'open') return apiError(409, 'upload_closed', `The multipart upload is ${s.state}.`);
    if (method === 'DELETE' && !m[2]) {
      s.state = 'aborted';
      return answer(204);
    }
    if (method === 'POST' && m[2] === '/parts') {
      this.signed += body.partNumbers.length;
      const parts = body.partNumbers.map((n) => ({
        partNumber: n, method: 'PUT', url: `http://oss/${s.key}?partNumber=${n}&uploadId=${s.uploadId}&sig=${this.signed}`,
        headers: {}, size: this.expected(s, n),
      }));
      return answer(200, { parts, expiresAt: new Date(Date.now() + 600e3).toISOString() });
    }
    if (method === 'POST' && m[2] === '/complete') {
      const missing = [];
      for (let n = 1; n <= s.partCount; n++) if (s.held.get(n)?.size !== this.expected(s, n)) missing.push(n);
      if (missing.length) return apiError(409, 'upload_incomplete', 'Parts missing: ' + missing.join(', ') + '.');
      s.state = 'completed';
      const rec = { id: 'r' + s.uploadId, bucket: 'b', key: s.key, size: s.size, contentType: s.body.contentType, etag: '"M-' + s.partCount + '"', filename: s.body.filename, vars: s.body.vars || {}, createdAt: new Date().toISOString() };
      this.records.push(rec);
      return answer(200, { upload: rec });
    }
    return apiError(405, 'method_not_allowed');
  }

  dto(s) {
    const { uploadId, key, size, partSize, partCount, expiresAt, state } = s;
    return { uploadId, key, size, partSize, partCount, expiresAt, state };
  }

  expected(s, n) { return n === s.partCount ? s.size - (s.partCount - 1) * s.partSize : s.partSize; }

  /** Answers an UploadPart PUT like OSS: stores the body under its number. */
  respondXHR = (xhr) => {
    const u = new URL(xhr.url);
    const n = Number(u.searchParams.get('partNumber'));
    const s = this.sessions.get(u.searchParams.get('uploadId'));
    const attempt = this.puts.filter((p) => p.n === n && p.uploadId === s?.uploadId).length;
    this.puts.push({ n, uploadId: s?.uploadId, url: xhr.url, size: xhr.body.size });
    if (this.failPut(xhr, n, attempt)) return;
    if (!s || s.state !== 'open') return xhr.finish(404, '<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>');
    s.held.set(n, xhr.body);
    xhr.finish(200, '', { ETag: `"E${n}"` });
  };

  /** The object a completed session would hold: its parts, in order. */
  async object(uploadId) {
    const s = this.sessions.get(uploadId);
    const parts = [...s.held].sort(([a], [b]) => a - b).map(([, b]) => b);
    return new Blob(parts).text();
  }
}
