package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// uppyE2EDir is the npm project with the real Uppy (installed by .ci/run
// with npm ci --prefix testdata/uppy-e2e).
const uppyE2EDir = "testdata/uppy-e2e"

// uppyRun is what the test page's runUppy reports.
type uppyRun struct {
	SHA256     string
	Successful []struct {
		UploadURL string
		Body      struct {
			Location, Key string
			Upload        *struct {
				ID, Key string
				Size    int64
			}
		}
	}
	Failed   []string
	Parts    int
	Recorded []string
	Errors   []string
}

// TestBrowserUppy runs the current @uppy/core + @uppy/aws-s3 in Chromium
// against local mode, with ossgate.js's awsS3Options and nothing else: a
// small POST-policy upload, a presigned PUT, and a 120 MiB file that Uppy
// sends multipart. Each ends with one record of the right size, whose
// object holds the bytes the page sent.
func TestBrowserUppy(t *testing.T) {
	if _, err := os.Stat(filepath.Join(uppyE2EDir, "node_modules", "@uppy", "aws-s3")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but Uppy is not installed: npm ci --prefix %s", uppyE2EDir)
		}
		t.Skipf("Uppy is not installed; run npm ci --prefix %s", uppyE2EDir)
	}
	ctx := newBrowser(t, 90*time.Second)

	// The page, bundled from page.js, on an origin of its own.
	dir := t.TempDir()
	esbuild, _ := filepath.Abs(filepath.Join(uppyE2EDir, "node_modules", ".bin", "esbuild")) // run in uppyE2EDir
	build := exec.Command(esbuild, "page.js", "--bundle", "--format=esm", "--log-level=warning", "--outfile="+filepath.Join(dir, "page.js"))
	build.Dir = uppyE2EDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(`<!doctype html><meta charset="utf-8"><title>Uppy</title><script type="module" src="/page.js"></script>`), 0o600)
	page := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer page.Close()

	a := localApp(t, map[string]string{"OSSGATE_CORS_ORIGINS": page.URL})
	// An ossgate whose callbacks fail (nothing listens at its public URL):
	// OSS stores the object and answers 203, which Uppy counts a success.
	noCallback := localApp(t, map[string]string{"OSSGATE_CORS_ORIGINS": page.URL, "OSSGATE_PUBLIC_URL": closedPortURL(t)})

	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/"), chromedp.Poll[chromedp.Void]("window.uppyReady === true")); err != nil {
		t.Fatalf("loading the page: %v", err)
	}

	tests := []struct {
		name, user, file, contentType, method string
		size                                  int
		multipart                             bool
		wantError                             string // the ossgate code upload-error reports; no record
		callbackFails                         bool   // against noCallback: the record comes from confirm
	}{
		{name: "refused", user: "uppy-refused", file: "setup.exe", contentType: "application/x-msdownload", size: 300, wantError: "type_not_allowed"},
		{name: "POST policy", user: "uppy-post", file: "notes.txt", contentType: "text/plain", size: 300 << 10},
		{name: "presigned PUT", user: "uppy-put", file: "scan.pdf", contentType: "application/pdf", size: 2<<20 + 7, method: "PUT"},
		{name: "multipart", user: "uppy-multipart", file: "clip.mp4", contentType: "video/mp4", size: 120 << 20, multipart: true},
		{name: "POST, callback failed", user: "uppy-post-203", file: "photo.png", contentType: "image/png", size: 5000, callbackFails: true},
		{name: "PUT, callback failed", user: "uppy-put-203", file: "photo.png", contentType: "image/png", size: 5000, method: "PUT", callbackFails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := a
			if tt.callbackFails {
				a = noCallback
			}
			var tok struct{ Token string }
			postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": tt.user}, &tok)
			args, _ := json.Marshal(map[string]any{"base": a.URL(), "token": tok.Token, "name": tt.file, "type": tt.contentType, "size": tt.size, "method": tt.method})
			run, err := chromedp.Run(ctx, chromedp.Evaluate[uppyRun]("runUppy("+string(args)+")", chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("runUppy: %v", err)
			}
			var list struct {
				Uploads []struct {
					ID, Key string
					Size    int64
				}
			}
			if tt.wantError != "" {
				if len(run.Successful) != 0 || len(run.Failed) != 1 || len(run.Errors) != 1 || !strings.HasPrefix(run.Errors[0], tt.wantError+": ") {
					t.Fatalf("Uppy: %d successful, failed %v, errors %v; want one failure, %s", len(run.Successful), run.Failed, run.Errors, tt.wantError)
				}
				if apiGet(t, a, tok.Token, "/api/uploads", &list); len(list.Uploads) != 0 {
					t.Fatalf("records %+v after a refusal", list.Uploads)
				}
				return
			}
			if len(run.Failed) != 0 || len(run.Errors) != 0 || len(run.Successful) != 1 {
				t.Fatalf("Uppy: %d successful, failed %v, errors %v", len(run.Successful), run.Failed, run.Errors)
			}
			got := run.Successful[0]
			up := got.Body.Upload
			if up == nil || up.Key != got.Body.Key || up.Size != int64(tt.size) || len(run.Recorded) != 1 || run.Recorded[0] != up.Key {
				t.Fatalf("response body %+v (record %+v), ossgate:upload %v; want the record of %d bytes under body.key", got.Body, up, run.Recorded, tt.size)
			}
			if !strings.HasPrefix(up.Key, "uploads/"+tt.user+"/") || got.UploadURL != a.cfg.UploadURL+"/"+up.Key {
				t.Errorf("key %s, uploadURL %s", up.Key, got.UploadURL)
			}
			if wantParts := 0; tt.multipart {
				wantParts = (tt.size + 8<<20 - 1) / (8 << 20)
				if run.Parts != wantParts {
					t.Errorf("%d parts uploaded, want %d", run.Parts, wantParts)
				}
			} else if run.Parts != 0 {
				t.Errorf("%d parts uploaded for a single upload", run.Parts)
			}

			// Exactly one record, through the API.
			if st := apiGet(t, a, tok.Token, "/api/uploads", &list); st != 200 {
				t.Fatalf("GET /api/uploads: %d", st)
			}
			if len(list.Uploads) != 1 || list.Uploads[0].ID != up.ID || list.Uploads[0].Size != int64(tt.size) {
				t.Fatalf("records %+v, want one: %+v", list.Uploads, up)
			}
			// The bucket holds exactly the bytes the page sent.
			stored := storedObject(t, a, up.Key)
			if sum := sha256.Sum256(stored); len(stored) != tt.size || hex.EncodeToString(sum[:]) != run.SHA256 {
				t.Fatalf("the object is %d bytes with SHA-256 %x; the page sent %d with %s", len(stored), sum, tt.size, run.SHA256)
			}
		})
	}
}
