package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ossgate/ossgate/ossclient"
)

// findChromium returns a Chromium binary, or "" when none is installed.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium for the test, with a fresh profile,
// and stops it when the test ends; every action on the returned context
// must finish within limit. It skips only when Chromium is missing outside CI.
func newBrowser(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	bin := findChromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but no Chromium is installed (apt-get install -y chromium)")
		}
		t.Skip("no Chromium installed; CI installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(390, 844), // a phone-sized screen
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	return ctx
}

// signIn opens the demo page at path and signs in as user.
func signIn(a *app, path, user string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(a.URL()+path),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SetValue(chromedp.CSS("#user"), user),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitEnabled(chromedp.CSS("#file")),
	)
}

// uploadInPage picks file in the page and waits for its (newest) upload item
// to end; it returns the item's final status and text.
func uploadInPage(t *testing.T, ctx context.Context, file string) (status, text string) {
	t.Helper()
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.upload-item').length`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file})); err != nil {
		t.Fatalf("choosing %s: %v", file, err)
	}
	end := fmt.Sprintf(`document.querySelectorAll('.upload-item').length > %d && ['done', 'error'].includes(document.querySelector('.upload-item').dataset.status)`, before)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](end, chromedp.WithPollingTimeout(50*time.Second))); err != nil {
		t.Fatalf("waiting for the upload of %s: %v", file, err)
	}
	status, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.upload-item').dataset.status`))
	if err != nil {
		t.Fatal(err)
	}
	text, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".upload-item")))
	return status, text
}

// apiRecord is the part of an upload record the browser tests check.
type apiRecord struct {
	ID, Key, Filename, ContentType string
	Size                           int64
	Image                          *struct{ Width, Height int }
}

// devTokenFor gets a dev token for sub through the API.
func devTokenFor(t *testing.T, a *app, sub string) string {
	t.Helper()
	var tok struct{ Token string }
	if st := postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": sub}, &tok); st != 200 || tok.Token == "" {
		t.Fatalf("dev token: %d", st)
	}
	return tok.Token
}

// apiGet GETs path with the bearer token and decodes a 200 answer into out;
// it returns the status.
func apiGet(t *testing.T, a *app, token, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == 200 && out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("decoding %s: %v", path, err)
		}
	}
	return res.StatusCode
}

// recordsOf lists sub's records through the API.
func recordsOf(t *testing.T, a *app, token string) []apiRecord {
	t.Helper()
	var list struct{ Uploads []apiRecord }
	if st := apiGet(t, a, token, "/api/uploads?limit=200", &list); st != 200 {
		t.Fatalf("GET /api/uploads: %d", st)
	}
	return list.Uploads
}

// storedObject reads key back from the emulator, through a link signed
// with ossgate's own client: the local bucket is private, as a real one.
func storedObject(t *testing.T, a *app, key string) []byte {
	t.Helper()
	status, served := getObject(t, a, key)
	if status != 200 {
		t.Fatalf("emulator GET %s: %d %s", key, status, served)
	}
	return served
}

// getObject GETs key from the emulator with a presigned URL.
func getObject(t *testing.T, a *app, key string) (int, []byte) {
	t.Helper()
	p, err := a.bucket.PresignGet(context.Background(), key, ossclient.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := http.Get(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	served, _ := io.ReadAll(obj.Body)
	return obj.StatusCode, served
}

// TestBrowserUpload drives the demo page in a real headless Chromium: sign
// in, pick a file, watch it upload to the emulator, and check the record
// and the stored bytes.
func TestBrowserUpload(t *testing.T) {
	ctx := newBrowser(t, 60*time.Second)
	a := localApp(t, nil)

	data := make([]byte, 3<<20)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx, signIn(a, "/", "browser-user")); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if status, text := uploadInPage(t, ctx, file); status != "done" {
		t.Fatalf("upload ended %q: %s", status, text)
	}
	keyAttr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(".record"), "data-key"))
	if err != nil {
		t.Fatal(err)
	}
	key := keyAttr.Value
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#uploads li[data-key]')].map(li => li.dataset.key)`))
	if err != nil {
		t.Fatal(err)
	}
	// No link on the page points at an object without a signature.
	hrefs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[href], [src]')].map(e => e.href || e.src)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hrefs {
		if strings.HasPrefix(h, a.cfg.UploadURL) && !strings.Contains(h, "signature") {
			t.Errorf("the page links %s, an unsigned object URL", h)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shotPath := filepath.Join(t.TempDir(), "demo-page.png")
	if err := os.WriteFile(shotPath, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("OSSGATE_SCREENSHOT_DIR"); d != "" {
		os.WriteFile(filepath.Join(d, "demo-page.png"), shot, 0o644)
	}
	t.Logf("screenshot: %s (%d bytes)", shotPath, len(shot))

	if !strings.HasPrefix(key, "uploads/browser-user/") || !strings.HasSuffix(key, ".txt") {
		t.Fatalf("record key %q", key)
	}
	if len(listed) == 0 || listed[0] != key {
		t.Fatalf("page list %v does not start with %s", listed, key)
	}

	// The record is in the user's list through the API too.
	list := recordsOf(t, a, devTokenFor(t, a, "browser-user"))
	if len(list) != 1 || list[0].Key != key || list[0].Size != int64(len(data)) {
		t.Fatalf("API list %+v, want one record of %s with %d bytes", list, key, len(data))
	}

	// The emulator serves back exactly the bytes the browser sent.
	if served := storedObject(t, a, key); !bytes.Equal(served, data) {
		t.Fatalf("emulator served %d bytes, want the %d uploaded", len(served), len(data))
	}
}
