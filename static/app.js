// The demo page: sign in with a dev token, upload files (big ones in parts,
// resuming after a reload), list your uploads with thumbnails, open them
// through signed links, delete them.
// Test hooks: body[data-signed-in], #status[data-state], .upload-item[data-status]
// (and data-resumed-parts), .record[data-key], #uploads li[data-key][data-id],
// img.thumb[data-state], button.delete, button.confirm-delete.
// `?multipartThreshold=BYTES` lowers the size above which files go in parts,
// to try multipart and resume with small files.
import { upload, listUploads, devToken, downloadURL, remove, resumableUploads, OssgateError } from './ossgate.js';

const PAGE_SIZE = 20;
const THUMB_FETCHES = 2; // signed thumbnail links asked for at a time
const multipartThreshold = (() => {
  const n = Number(new URLSearchParams(location.search).get('multipartThreshold'));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
})();
const $ = (sel) => document.querySelector(sel);
const els = {
  form: $('#signin-form'), user: $('#user'), signin: $('#signin'),
  drop: $('#drop'), file: $('#file'), items: $('#items'),
  uploads: $('#uploads'), empty: $('#uploads-empty'), more: $('#more'), refresh: $('#refresh'),
  status: $('#status'), resumable: $('#resumable'),
};

// sessionStorage can throw (privacy modes); the page works without it.
const saved = {
  get(k) { try { return sessionStorage.getItem('ossgate.' + k) || ''; } catch { return ''; } },
  set(k, v) { try { if (v) sessionStorage.setItem('ossgate.' + k, v); else sessionStorage.removeItem('ossgate.' + k); } catch { /* ignore */ } },
};

const state = {
  user: saved.get('user'),
  token: saved.get('token'),
  signingIn: null,          // Promise<string|null> while a sign-in runs
  nextCursor: null,
  listGen: 0,               // bumped by every list reload
  renderedGen: 0,           // generation of the list on screen
};

// --- small DOM helpers ---

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.filter((c) => c != null));
  return el;
}

function formatSize(n) {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : String(n)) + ' ' + units[i];
}

function setStatus(text, kind = 'idle') {
  els.status.textContent = text;
  els.status.dataset.state = kind;
}

function describe(err) {
  return err instanceof OssgateError ? err : new OssgateError('error', String(err && err.message || err));
}

// --- sign-in ---

function setSignedIn(on) {
  document.body.dataset.signedIn = String(on);
  document.body.dataset.user = on ? state.user : '';
  els.file.disabled = !on;
  els.refresh.disabled = !on;
  els.drop.setAttribute('aria-disabled', String(!on));
}

function signOut(message) {
  state.token = '';
  saved.set('token', '');
  setSignedIn(false);
  setStatus(message, 'error');
}

function signIn() {
  const user = els.user.value.trim();
  if (!user) {
    setStatus('Enter a user name first.', 'error');
    els.user.focus();
    return Promise.resolve(null);
  }
  setSignedIn(false); // the file input waits for the new token
  els.signin.disabled = true;
  setStatus(`Signing in as ${user}…`, 'busy');
  const run = devToken(user).then((token) => {
    const switched = user !== state.user;
    state.user = user;
    state.token = token;
    saved.set('user', user);
    saved.set('token', token);
    if (switched) clearList();
    setSignedIn(true);
    setStatus(`Signed in as ${user}. Choose or drop files to upload.`, 'ok');
    reloadList().catch(listFailed);
    return token;
  }, (err) => {
    state.token = ''; // stay consistently signed out
    saved.set('token', '');
    const e = describe(err);
    setStatus(`Sign-in failed [${e.code}]: ${e.message}`, 'error');
    return null;
  }).finally(() => {
    els.signin.disabled = false;
    if (state.signingIn === run) state.signingIn = null;
  });
  state.signingIn = run;
  return run;
}

// Files that arrive before sign-in finished wait for it (or start one).
function ensureToken() {
  if (state.signingIn) return state.signingIn;
  if (state.token) return Promise.resolve(state.token);
  return signIn();
}

// --- uploads in this session ---

function addFiles(fileList) {
  const files = Array.from(fileList || []);
  if (!files.length) return;
  setStatus(`Uploading ${files.length} file${files.length > 1 ? 's' : ''}…`, 'busy');
  for (const file of files) startUpload(file);
}

async function startUpload(file) {
  const ctrl = new AbortController();
  const progress = h('progress', { max: 100, value: 0 });
  const pct = h('span', { class: 'pct' }, '0%');
  const note = h('p', { class: 'hint note', hidden: true });
  const cancel = h('button', { type: 'button', class: 'secondary small', onclick: () => ctrl.abort() }, 'Cancel');
  const item = h('li', { class: 'upload-item', 'data-status': 'pending' },
    h('div', { class: 'item-head' },
      h('span', { class: 'name', title: file.name }, file.name),
      h('span', { class: 'muted' }, formatSize(file.size)),
      cancel),
    h('div', { class: 'bar' }, progress, pct),
    note);
  els.items.prepend(item);

  const show = (p) => {
    const n = Math.floor(p.fraction * 100);
    progress.value = n;
    pct.textContent = n + '%';
    if (p.partCount > 1) pct.title = `${p.partsDone} of ${p.partCount} parts`;
  };

  try {
    const token = await ensureToken();
    if (!token) throw new OssgateError('unauthorized', 'Sign in first.');
    item.dataset.status = 'uploading';
    const record = await upload(file, {
      token,
      signal: ctrl.signal,
      multipartThreshold,
      onProgress: show,
      onSession: (s) => {
        item.dataset.resumedParts = String(s.resumedParts);
        note.hidden = false;
        note.textContent = s.resumedParts
          ? `Resuming: ${s.resumedParts} of ${s.partCount} parts were already uploaded.`
          : `Uploading in ${s.partCount} parts; if this page closes, choose the same file again to resume.`;
        showResumable();
      },
    });
    show({ fraction: 1 });
    cancel.remove();
    note.hidden = true;
    item.append(renderRecord(record));
    showResumable();
    // Only report "done" once the list shows the record too.
    await reloadList().catch(() => {});
    if (!els.uploads.querySelector(`li[data-key="${CSS.escape(record.key)}"]`)) {
      els.uploads.prepend(renderListItem(record));
      els.empty.hidden = true;
    }
    item.dataset.status = 'done';
    setStatus(`Uploaded ${file.name}.`, 'ok');
  } catch (err) {
    const e = describe(err);
    cancel.remove();
    item.append(renderError(e));
    item.dataset.status = 'error';
    setStatus(`${file.name}: ${e.code}`, 'error');
    showResumable();
    if (e.code === 'unauthorized') signOut('Your sign-in expired or was refused. Sign in again.');
  }
}

function renderRecord(r) {
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  return h('dl', { class: 'record', 'data-key': r.key },
    ...row('Key', h('code', {}, r.key)),
    ...row('Size', `${formatSize(r.size)} (${r.size} bytes)`),
    ...row('ETag', h('code', {}, r.etag || '—')),
    ...row('Type', r.contentType || '—'),
    ...(r.image ? row('Image', `${r.image.width} × ${r.image.height} ${r.image.format || ''}`) : []),
    ...row('Object', openButtons(r)));
}

function renderError(e) {
  const hint = {
    CallbackFailed: 'The object is in storage, but ossgate did not record it.',
    network_error: 'Check that the storage endpoint is reachable and allows this origin (CORS). Choose the file again to resume a big upload.',
    aborted: 'Cancelled.',
    file_too_large: 'The file is larger than the server allows.',
    type_not_allowed: 'The server does not accept this kind of file.',
    object_mismatch: 'The stored object is not what the upload declared.',
  }[e.code];
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, h('code', { class: 'code' }, e.code), ' ', e.message),
    hint && e.message !== hint ? h('p', { class: 'muted' }, hint) : null);
}

// Big uploads this browser can resume, from ossgate.js's memory.
function showResumable() {
  const pending = resumableUploads();
  els.resumable.hidden = pending.length === 0;
  els.resumable.replaceChildren(...(pending.length ? [
    h('p', {}, 'Unfinished uploads — choose the same file again to resume:'),
    h('ul', {}, ...pending.map((p) => h('li', {}, h('span', { class: 'name' }, p.filename || p.key), ' ',
      h('span', { class: 'muted' }, formatSize(p.size))))),
  ] : []));
}

// --- opening files: always through a short-lived signed link ---

function openButtons(r) {
  return h('span', { class: 'actions' },
    h('button', { type: 'button', class: 'secondary small open', onclick: () => openSigned(r, 'inline') }, 'Open'),
    h('button', { type: 'button', class: 'secondary small download', onclick: () => openSigned(r, 'attachment') }, 'Download'));
}

async function openSigned(r, disposition) {
  // Opened now, while the click still counts as one: after an await,
  // popup blockers would refuse it.
  const win = disposition === 'inline' ? window.open('', '_blank') : null;
  try {
    const { url } = await downloadURL(r.id, { token: state.token, disposition });
    if (win) {
      win.opener = null;
      win.location.replace(url);
    } else {
      const a = h('a', { href: url, download: r.filename || '', hidden: true });
      document.body.append(a); // some browsers follow only attached links
      a.click();
      a.remove();
    }
  } catch (err) {
    if (win) win.close();
    linkFailed(err, r);
  }
}

function linkFailed(err, r) {
  const e = describe(err);
  if (e.code === 'unauthorized') signOut('Your sign-in expired. Sign in again.');
  else setStatus(`Could not sign a link to ${r.filename || r.key} [${e.code}]: ${e.message}`, 'error');
}

// Thumbnails: OSS renders them (style=thumb); the page only asks ossgate
// for signed links, a few at a time.
const thumbs = { queue: [], running: 0, links: new Map() }; // links: id → {url, expiresAt}

function isImage(r) {
  return Boolean(r.image) || /^image\/(png|jpeg|gif|webp|bmp|tiff)$/.test(r.contentType || '');
}

function renderThumb(r) {
  const img = h('img', { class: 'thumb', alt: '', width: 64, height: 64, 'data-state': 'loading', decoding: 'async' });
  img.addEventListener('load', () => { img.dataset.state = 'loaded'; });
  img.addEventListener('error', () => { img.dataset.state = 'error'; });
  const cached = thumbs.links.get(r.id);
  if (cached && Date.parse(cached.expiresAt) - Date.now() > 60_000) img.src = cached.url;
  else thumbs.queue.push({ r, img, token: state.token });
  queueMicrotask(pumpThumbs); // once the item is in the page
  return img;
}

function pumpThumbs() {
  while (thumbs.running < THUMB_FETCHES && thumbs.queue.length) {
    const { r, img, token } = thumbs.queue.shift();
    if (!img.isConnected) continue; // the list was redrawn meanwhile
    thumbs.running++;
    downloadURL(r.id, { token, style: 'thumb' })
      .then((link) => {
        thumbs.links.set(r.id, link);
        img.src = link.url;
      }, () => { img.dataset.state = 'error'; })
      .finally(() => { thumbs.running--; pumpThumbs(); });
  }
}

// --- the user's upload list ---

function renderListItem(r) {
  const name = r.filename || r.key.split('/').pop();
  const when = r.createdAt ? new Date(r.createdAt) : null;
  const li = h('li', { 'data-key': r.key, 'data-id': r.id },
    isImage(r) ? renderThumb(r) : h('span', { class: 'thumb none', 'aria-hidden': 'true' }, fileBadge(r)),
    h('div', { class: 'info' },
      h('span', { class: 'name' }, name),
      h('span', { class: 'muted' },
        `${formatSize(r.size)} · ${r.contentType || '?'}`,
        when && !isNaN(when) ? h('span', {}, ' · ', h('time', { datetime: r.createdAt }, when.toLocaleString())) : null),
      h('code', { class: 'key' }, r.key),
      h('div', { class: 'row-actions' }, openButtons(r), deleteControl(r))));
  return li;
}

function fileBadge(r) {
  const ext = (r.filename || r.key).split('.').pop();
  return ext && ext.length <= 4 ? ext.toUpperCase() : 'FILE';
}

// Deleting asks once more, in place, before anything is sent.
function deleteControl(r) {
  const box = h('span', { class: 'delete-box' });
  const ask = () => box.replaceChildren(
    h('span', { class: 'confirm-text' }, 'Delete for good?'),
    h('button', { type: 'button', class: 'small danger confirm-delete', onclick: () => doDelete(r, box) }, 'Delete'),
    h('button', { type: 'button', class: 'secondary small cancel-delete', onclick: idle }, 'Keep'));
  const idle = () => box.replaceChildren(
    h('button', { type: 'button', class: 'secondary small delete', onclick: ask }, 'Delete'));
  idle();
  return box;
}

async function doDelete(r, box) {
  for (const b of box.querySelectorAll('button')) b.disabled = true;
  try {
    await remove(r.id, { token: state.token });
    for (const el of document.querySelectorAll(`[data-key="${CSS.escape(r.key)}"]`)) {
      if (el.matches('#uploads li')) el.remove();
      else if (el.matches('.record')) el.closest('.upload-item').dataset.status = 'deleted';
    }
    els.empty.hidden = els.uploads.children.length > 0;
    setStatus(`Deleted ${r.filename || r.key}.`, 'ok');
  } catch (err) {
    for (const b of box.querySelectorAll('button')) b.disabled = false;
    const e = describe(err);
    if (e.code === 'unauthorized') signOut('Your sign-in expired. Sign in again.');
    else setStatus(`Could not delete ${r.filename || r.key} [${e.code}]: ${e.message}`, 'error');
  }
}

function clearList() {
  state.listGen++;
  state.renderedGen = state.listGen;
  els.uploads.replaceChildren();
  els.empty.hidden = false;
  setCursor(null);
}

function setCursor(cursor) {
  state.nextCursor = cursor || null;
  els.more.hidden = !state.nextCursor;
}

// Loads the first page. Answers that arrive after a newer one are dropped,
// so a slow early reload never hides a later upload.
async function reloadList() {
  if (!state.token) return;
  const gen = ++state.listGen;
  const page = await listUploads({ token: state.token, limit: PAGE_SIZE });
  if (gen < state.renderedGen) return;
  state.renderedGen = gen;
  els.uploads.replaceChildren(...page.uploads.map(renderListItem));
  els.empty.hidden = page.uploads.length > 0;
  setCursor(page.nextCursor);
}

async function loadMore() {
  if (!state.token || !state.nextCursor) return;
  const gen = state.listGen;
  els.more.disabled = true;
  try {
    const page = await listUploads({ token: state.token, limit: PAGE_SIZE, cursor: state.nextCursor });
    if (gen !== state.listGen) return; // the list was reloaded meanwhile
    const known = new Set(Array.from(els.uploads.children, (li) => li.dataset.key));
    els.uploads.append(...page.uploads.filter((r) => !known.has(r.key)).map(renderListItem));
    setCursor(page.nextCursor);
  } catch (err) {
    listFailed(err);
  } finally {
    els.more.disabled = false;
  }
}

function listFailed(err) {
  const e = describe(err);
  if (e.code === 'unauthorized') signOut('Your sign-in expired. Sign in again.');
  else setStatus(`Could not load your uploads [${e.code}]: ${e.message}`, 'error');
}

// --- wiring ---

els.form.addEventListener('submit', (ev) => { ev.preventDefault(); signIn(); });

els.file.addEventListener('change', () => {
  const files = Array.from(els.file.files || []);
  els.file.value = ''; // choosing the same file again fires change again
  addFiles(files);
});

for (const type of ['dragenter', 'dragover']) {
  els.drop.addEventListener(type, (ev) => {
    ev.preventDefault();
    els.drop.classList.add('over');
  });
}
els.drop.addEventListener('dragleave', (ev) => {
  if (!els.drop.contains(ev.relatedTarget)) els.drop.classList.remove('over');
});
els.drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  els.drop.classList.remove('over');
  addFiles(ev.dataTransfer && ev.dataTransfer.files);
});
// A file dropped next to the zone must not navigate away from the page.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (ev) => ev.preventDefault());

els.refresh.addEventListener('click', () => reloadList().catch(listFailed));
els.more.addEventListener('click', loadMore);

// A token from this tab's earlier visit is reused until the server refuses it.
showResumable();
if (state.user) els.user.value = state.user;
if (state.token) {
  setSignedIn(true);
  setStatus(`Signed in as ${state.user}.`, 'ok');
  reloadList().catch(listFailed);
}
