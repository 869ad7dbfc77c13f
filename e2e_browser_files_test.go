package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// writePNG writes a w×h gradient PNG to path.
func writePNG(t *testing.T, path string, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 160, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// After an image upload the list shows its 256×256 thumbnail through a
// signed link, "Open" opens the file through a signed link, and deleting
// it (with the confirm step) removes it from the page, the API and OSS.
func TestBrowserThumbnailOpenAndDelete(t *testing.T) {
	ctx := newBrowser(t, 60*time.Second)
	a := localApp(t, nil)
	const user = "photo-user"
	file := filepath.Join(t.TempDir(), "sunset.png")
	data := writePNG(t, file, 600, 400)

	if err := chromedp.Do(ctx, signIn(a, "/", user)); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	if status, text := uploadInPage(t, ctx, file); status != "done" {
		t.Fatalf("upload ended %q: %s", status, text)
	}
	token := devTokenFor(t, a, user)
	list := recordsOf(t, a, token)
	if len(list) != 1 || list[0].Size != int64(len(data)) {
		t.Fatalf("API list %+v, want one record of %d bytes", list, len(data))
	}
	rec := list[0]
	if rec.Image == nil || rec.Image.Width != 600 || rec.Image.Height != 400 {
		t.Errorf("record image %+v, want 600×400", rec.Image)
	}
	item := `#uploads li[data-id="` + rec.ID + `"]`

	// The thumbnail: OSS's 256×256 rendering, fetched with a signed link.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('`+item+` img.thumb')?.dataset.state === 'loaded'`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(document.querySelector('`+item+` img.thumb')?.dataset.state)`))
		t.Fatalf("thumbnail did not load (state %s): %v", state, err)
	}
	type thumbInfo struct {
		W, H int
		Src  string
	}
	thumb, err := chromedp.Run(ctx, chromedp.Evaluate[thumbInfo](`(() => { const i = document.querySelector('`+item+` img.thumb'); return { w: i.naturalWidth, h: i.naturalHeight, src: i.src }; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if thumb.W != 256 || thumb.H != 256 {
		t.Errorf("thumbnail is %d×%d, want 256×256", thumb.W, thumb.H)
	}
	if !strings.HasPrefix(thumb.Src, a.cfg.UploadURL+"/") || !strings.Contains(thumb.Src, "x-oss-process=") || !strings.Contains(strings.ToLower(thumb.Src), "signature") {
		t.Errorf("thumbnail src %s is not a signed, processed link to the bucket", thumb.Src)
	}

	if d := os.Getenv("OSSGATE_SCREENSHOT_DIR"); d != "" {
		if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(d, "demo-page-thumbnail.png"), shot, 0o644)
		}
	}

	// "Open" opens the object in a new tab, through a signed link.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(item+` button.open`))); err != nil {
		t.Fatal(err)
	}
	var opened string
	for deadline := time.Now().Add(10 * time.Second); opened == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range targets {
			if tg.Type == "page" && strings.HasPrefix(tg.URL, a.cfg.UploadURL+"/") {
				opened = tg.URL
			}
		}
	}
	if opened == "" || !strings.Contains(opened, rec.Key[strings.LastIndex(rec.Key, "/")+1:]) || !strings.Contains(strings.ToLower(opened), "signature") {
		t.Fatalf("Open opened %q, want a signed link to %s", opened, rec.Key)
	}
	res, err := http.Get(opened)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ContentLength != int64(len(data)) {
		t.Fatalf("the opened link answers %d with %d bytes, want 200 with %d", res.StatusCode, res.ContentLength, len(data))
	}

	// Delete asks first; "Keep" changes nothing, "Delete" deletes.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(item+` button.delete`)),
		chromedp.WaitVisible(chromedp.CSS(item+` button.confirm-delete`)),
		chromedp.Click(chromedp.CSS(item+` button.cancel-delete`)),
		chromedp.WaitVisible(chromedp.CSS(item+` button.delete`)),
	)
	if err != nil {
		t.Fatalf("cancelling the delete: %v", err)
	}
	if st := apiGet(t, a, token, "/api/uploads/"+rec.ID, nil); st != 200 {
		t.Fatalf("after Keep, GET the record: %d, want 200", st)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(item+` button.delete`)),
		chromedp.WaitVisible(chromedp.CSS(item+` button.confirm-delete`)),
		chromedp.Click(chromedp.CSS(item+` button.confirm-delete`)),
		chromedp.WaitNotPresent(chromedp.CSS(item)),
	)
	if err != nil {
		t.Fatalf("deleting: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#status').dataset.state + ' ' + document.querySelector('#status').textContent`))
	if err != nil || !strings.HasPrefix(status, "ok Deleted sunset.png") {
		t.Errorf("status after the delete: %q %v", status, err)
	}
	if st := apiGet(t, a, token, "/api/uploads/"+rec.ID, nil); st != 404 {
		t.Fatalf("GET the deleted record: %d, want 404", st)
	}
	if n := len(recordsOf(t, a, token)); n != 0 {
		t.Fatalf("%d records listed after the delete", n)
	}
	if status, _ := getObject(t, a, rec.Key); status != 404 {
		t.Fatalf("the deleted object answers %d, want 404", status)
	}
}
