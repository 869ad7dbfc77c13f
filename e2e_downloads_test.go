package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// TestLocalModeDownloadsThumbnailsDelete: upload a PNG → its record has
// the image's size → the signed link serves the same bytes, as an
// attachment under its Unicode name too → the thumbnail is 256×256 →
// tampered and expired links are refused by the emulator → DELETE → the
// object is gone (HeadObject 404 with the official SDK) and so is the
// record. Other users can do none of it.
func TestLocalModeDownloadsThumbnailsDelete(t *testing.T) {
	a := localApp(t, map[string]string{
		"OSSGATE_LOCAL_OSS_ACCESS_KEY_ID": "LOCALTESTKEY", "OSSGATE_LOCAL_OSS_ACCESS_KEY_SECRET": "local-test-secret",
		"OSSGATE_DOWNLOAD_TTL": "3s",
	})
	var tok, tokB struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "alice"}, &tok)
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "bob"}, &tokB)
	alice := &mpClient{t, a.URL(), tok.Token}
	bob := &mpClient{t, a.URL(), tokB.Token}

	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for x := 0; x < 640; x++ {
		img.Set(x, x%480, color.RGBA{uint8(x), 0, 0, 255})
	}
	var pngBytes bytes.Buffer
	png.Encode(&pngBytes, img)
	const name = "Ünïcode photo.png"
	var p policyAnswer
	if st := postJSON(t, a.URL()+"/api/uploads/policy", tok.Token, map[string]any{"filename": name, "size": pngBytes.Len(), "contentType": "image/png"}, &p); st != 200 {
		t.Fatalf("policy: %d", st)
	}
	res, body := uploadForm(t, p, name, "image/png", pngBytes.Bytes())
	var up struct {
		Upload struct {
			ID    string
			Image *struct {
				Width, Height int
				Format        string
			}
		}
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &up) != nil {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	if im := up.Upload.Image; im == nil || im.Width != 640 || im.Height != 480 || im.Format != "png" {
		t.Fatalf("record image %+v, want 640x480 png (%s)", im, body)
	}
	id := up.Upload.ID

	link := func(c *mpClient, query string) (string, int) {
		var l struct{ URL string }
		st, _ := c.call("GET", "/api/uploads/"+id+"/url"+query, nil, &l)
		return l.URL, st
	}
	fetch := func(u string) (*http.Response, []byte) {
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r, b
	}
	u, st := link(alice, "")
	if st != 200 {
		t.Fatalf("url: %d", st)
	}
	if r, b := fetch(u); r.StatusCode != 200 || !bytes.Equal(b, pngBytes.Bytes()) {
		t.Errorf("signed link: %d, %d bytes (want the %d uploaded)", r.StatusCode, len(b), pngBytes.Len())
	}
	u, _ = link(alice, "?disposition=attachment")
	r, _ := fetch(u)
	if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''%C3%9Cn%C3%AFcode%20photo.png") || !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("attachment Content-Disposition %q", cd)
	}
	u, _ = link(alice, "?style=thumb")
	r, b := fetch(u)
	if cfg, err := png.DecodeConfig(bytes.NewReader(b)); r.StatusCode != 200 || err != nil || cfg.Width != 256 || cfg.Height != 256 {
		t.Errorf("thumbnail: %d %v %dx%d, want a 256x256 PNG", r.StatusCode, err, cfg.Width, cfg.Height)
	}
	if _, st := link(alice, "?style=image/resize,w_1"); st != 400 {
		t.Errorf("raw processing string as style: %d, want 400", st)
	}
	if _, st := link(alice, "?disposition=evil"); st != 400 {
		t.Errorf("bad disposition: %d, want 400", st)
	}
	if r, _ := fetch(strings.Replace(u, "w_256", "w_999", 1)); r.StatusCode != 403 {
		t.Errorf("tampered link: %d, want 403", r.StatusCode)
	}
	if _, st := link(bob, ""); st != 404 {
		t.Errorf("bob's link to alice's upload: %d, want 404", st)
	}
	if st, _ := bob.call("DELETE", "/api/uploads/"+id, nil, nil); st != 404 {
		t.Errorf("bob deletes alice's upload: %d, want 404", st)
	}
	u, _ = link(alice, "")
	time.Sleep(4 * time.Second) // OSSGATE_DOWNLOAD_TTL=3s
	if r, _ := fetch(u); r.StatusCode != 403 {
		t.Errorf("expired link: %d, want 403", r.StatusCode)
	}

	if st, c := alice.call("DELETE", "/api/uploads/"+id, nil, nil); st != 204 {
		t.Fatalf("delete: %d %s", st, c)
	}
	sdk := oss.NewClient(oss.NewConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider("LOCALTESTKEY", "local-test-secret")).
		WithRegion(a.cfg.Region).WithEndpoint(a.cfg.OSSEndpoint).WithUsePathStyle(true))
	_, err := sdk.HeadObject(context.Background(), &oss.HeadObjectRequest{Bucket: oss.Ptr(a.cfg.Bucket), Key: oss.Ptr(p.Key)})
	var se *oss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != 404 {
		t.Errorf("HeadObject after delete: %v, want 404", err)
	}
	if st, _ := alice.call("GET", "/api/uploads/"+id, nil, nil); st != 404 {
		t.Errorf("record after delete: %d, want 404", st)
	}
	if st, _ := alice.call("DELETE", "/api/uploads/"+id, nil, nil); st != 404 {
		t.Errorf("second delete: %d, want 404", st)
	}
	if _, st := link(alice, ""); st != 404 {
		t.Errorf("link to a deleted upload: %d, want 404", st)
	}
}
