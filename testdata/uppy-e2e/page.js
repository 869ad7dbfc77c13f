// The test page of e2e_browser_uppy_test.go: the real @uppy/core and
// @uppy/aws-s3 from npm (bundled by esbuild at test time), and ossgate.js
// imported from the running ossgate, as the README's Uppy section does.
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';

// Random bytes, filled 64 KiB at a time (getRandomValues' limit).
function randomFile(name, type, size) {
  const bytes = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) crypto.getRandomValues(bytes.subarray(off, Math.min(size, off + 65536)));
  return new File([bytes], name, { type });
}

async function sha256(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// runUppy uploads one generated file and reports what Uppy and the adapter said.
window.runUppy = async ({ base, token, name, type, size, method }) => {
  const { awsS3Options, ossgateError } = await import(`${base}/ossgate.js`);
  const getToken = async () => token;
  const file = randomFile(name, type, size);

  // As in the README (method: 'PUT' for a presigned PUT instead of a POST form).
  const uppy = new Uppy();
  uppy.use(AwsS3, awsS3Options(uppy, { baseURL: base, getToken, ...(method ? { method, shouldUseMultipart: false } : {}) }));
  let completed;
  uppy.on('complete', ({ successful, failed }) => { completed = { successful, failed }; });

  const seen = { parts: 0, recorded: [], errors: [] };
  uppy.on('s3-multipart:part-uploaded', () => { seen.parts++; });
  uppy.on('ossgate:upload', (f, record) => { seen.recorded.push(record.key); });
  // A listener that throws stops Uppy's upload for good: keep them safe.
  uppy.on('upload-error', (f, err) => {
    try {
      const e = ossgateError(err);
      seen.errors.push(`${e.code}: ${e.message}`);
    } catch (e) {
      seen.errors.push(`ossgateError threw: ${e}`);
    }
  });

  uppy.addFile({ name, type, data: file });
  await uppy.upload();
  return {
    sha256: await sha256(file),
    successful: completed.successful.map((f) => ({ uploadURL: f.response?.uploadURL || '', body: f.response?.body || {} })),
    failed: completed.failed.map((f) => String(f.error)),
    ...seen,
  };
};
window.uppyReady = true;
