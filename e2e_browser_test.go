package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// TestBrowserUpload drives the demo page in a real headless Chromium: sign
// in, pick a file, watch it upload to the emulator, and check the record
// and the stored bytes. It skips only when Chromium is missing outside CI.
func TestBrowserUpload(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but no Chromium is installed (apt-get install -y chromium)")
		}
		t.Skip("no Chromium installed; CI installs it")
	}
	a := localApp(t, nil)

	dir := t.TempDir()
	data := make([]byte, 3<<20)
	rand.Read(data)
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(390, 844), // a phone-sized screen
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL()+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SetValue(chromedp.CSS("#user"), "browser-user"),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitEnabled(chromedp.CSS("#file")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		chromedp.WaitVisible(chromedp.CSS(`.upload-item[data-status="done"], .upload-item[data-status="error"]`)),
	)
	if err != nil {
		t.Fatalf("driving the page: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(".upload-item"), "data-status"))
	if err != nil {
		t.Fatal(err)
	}
	if status.Value != "done" {
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".upload-item")))
		t.Fatalf("upload ended %q: %s", status.Value, text)
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
	var tok struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "browser-user"}, &tok)
	req, _ := http.NewRequest("GET", a.URL()+"/api/uploads", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Uploads []struct {
			Key  string
			Size int64
		}
	}
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list.Uploads) != 1 || list.Uploads[0].Key != key || list.Uploads[0].Size != int64(len(data)) {
		t.Fatalf("API list %+v, want one record of %s with %d bytes", list.Uploads, key, len(data))
	}

	// The emulator serves back exactly the bytes the browser sent.
	obj, err := http.Get(a.cfg.UploadURL + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(served, data) {
		t.Fatalf("emulator served %d bytes, want the %d uploaded", len(served), len(data))
	}
}
