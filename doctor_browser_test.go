package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ossgate/ossgate/ossclient"
)

// putFromPage asks for a presigned PUT and sends it from the page with
// XMLHttpRequest, as S3/OSS uploaders do, then reads the ETag the way a
// multipart uploader must to complete.
const putFromPage = `(async () => {
  const tok = await (await fetch('/api/dev/token', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({sub: 'browser-doctor'})})).json();
  const p = await (await fetch('/api/uploads/presign', {method: 'POST', headers: {'content-type': 'application/json', authorization: 'Bearer ' + tok.token},
    body: JSON.stringify({filename: 'part.txt', size: 5, contentType: 'text/plain'})})).json();
  return await new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', p.url);
    for (const [k, v] of Object.entries(p.headers)) xhr.setRequestHeader(k, v);
    xhr.onload = () => resolve({status: xhr.status, etag: xhr.getResponseHeader('ETag') || '', key: p.key, error: ''});
    xhr.onerror = () => resolve({status: xhr.status, etag: '', key: p.key, error: 'XHR error'});
    xhr.send(new Blob(['hello']));
  });
})()`

type pagePut struct {
	Status int
	ETag   string
	Key    string
	Error  string
}

// TestBrowserPutNeedsETagExposed: with a bucket CORS rule that does not
// expose ETag, a real Chromium's PUT is stored but the page cannot read
// the ETag (what multipart uploaders report as "ETag missing, check CORS");
// after `ossgate doctor --fix-cors` it can.
func TestBrowserPutNeedsETagExposed(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but no Chromium is installed (apt-get install -y chromium)")
		}
		t.Skip("no Chromium installed; CI installs it")
	}
	a, d := doctorApp(t, nil)
	ctx := context.Background()
	rule := corsFixRule([]string{a.URL()})
	rule.ExposeHeaders = nil // the mistake users make
	if err := d.oss.PutBucketCORS(ctx, []ossclient.CORSRule{rule}); err != nil {
		t.Fatal(err)
	}
	if f := find(t, d.checkCORS(ctx), "cors:"+a.URL()); f.Status != fail {
		t.Fatalf("the doctor passes the rule: %+v", f)
	}

	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-background-networking", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	bctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(bctx, chromedp.Navigate(a.URL()+"/")); err != nil {
		t.Fatal(err)
	}

	before, err := chromedp.Run(bctx, chromedp.Evaluate[pagePut](putFromPage, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("without ETag exposed: %+v", before)
	if before.Status != 200 || before.ETag != "" {
		t.Fatalf("PUT without ETag exposed: %+v, want a stored object whose ETag the page cannot read", before)
	}
	if _, err := d.oss.HeadObject(ctx, before.Key); err != nil {
		t.Fatalf("the object the page PUT is not stored: %v", err)
	}

	var out bytes.Buffer
	if code := d.fixCORS(ctx, nil, &out, true); code != 0 {
		t.Fatalf("--fix-cors: %d\n%s", code, &out)
	}
	t.Logf("%s", &out)
	after, err := chromedp.Run(bctx, chromedp.Evaluate[pagePut](putFromPage, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.oss.HeadObject(ctx, after.Key)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != 200 || strings.Trim(after.ETag, `"`) != info.ETag {
		t.Fatalf("PUT after --fix-cors: %+v, want the ETag %s readable", after, info.ETag)
	}
}
