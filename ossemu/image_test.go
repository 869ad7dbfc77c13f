package ossemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// gradient is a w x h image whose red grows left to right and green top to
// bottom, so that a crop or a squash shows in the pixels.
func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / (w - 1)), uint8(y * 255 / (h - 1)), 0x80, 0xff})
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decodeImage decodes an answer's body, failing the test if it is no image.
func decodeImage(t *testing.T, body []byte) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the answer is not an image (%v): %d bytes starting %q", err, len(body), body[:min(len(body), 40)])
	}
	return img, format
}

// wantProcessedHeaders checks what every processed answer carries, and what
// it must not carry from the stored object.
func wantProcessedHeaders(t *testing.T, r result, contentType string) {
	t.Helper()
	if got := r.header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type = %q, want %q", got, contentType)
	}
	if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(r.body)) {
		t.Errorf("Content-Length = %q, body is %d bytes", got, len(r.body))
	}
	for _, h := range []string{"ETag", "x-oss-hash-crc64ecma", "Content-Disposition"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("%s = %q on a processed image, want none: it describes the stored object", h, v)
		}
	}
}

// TestImageProcessPresignedGet: the SDK presigns GetObject with Process,
// and a plain GET of the URL (a browser's) answers the processed image, each
// way the SDK signs; the SDK's own GetObject with Process reads it too.
func TestImageProcessPresignedGet(t *testing.T) {
	ctx := context.Background()
	env := newSDKEnv(t, nil)
	const key = "uploads/alice/photo 1.png"
	_, err := sdkClient(env.testEnv, sdkOpts{}).PutObject(ctx, &oss.PutObjectRequest{Bucket: bucket, Key: oss.Ptr(key),
		Body: bytes.NewReader(encodePNG(t, gradient(1000, 600))), ContentType: oss.Ptr("image/png"),
		ContentDisposition: oss.Ptr(`attachment; filename="photo.png"`)})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	const style = "image/resize,m_fill,w_256,h_256"
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			c := sdkClient(env.testEnv, s.opts)
			res := presign(t, c, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key), Process: oss.Ptr(style)})
			if !strings.Contains(res.URL, "x-oss-process=") {
				t.Fatalf("the presigned URL has no x-oss-process: %s", res.URL)
			}
			r := sendPresigned(t, res, nil, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %v", style, r)
			}
			wantProcessedHeaders(t, r, "image/png")
			img, format := decodeImage(t, r.body)
			if b := img.Bounds(); format != "png" || b.Dx() != 256 || b.Dy() != 256 {
				t.Errorf("got a %dx%d %s, want a 256x256 png", b.Dx(), b.Dy(), format)
			}

			asked := presign(t, c, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key), Process: oss.Ptr(style),
				ResponseContentDisposition: oss.Ptr(`inline; filename="thumb.png"`)})
			if r := sendPresigned(t, asked, nil, nil); r.status != http.StatusOK || r.header.Get("Content-Disposition") != `inline; filename="thumb.png"` {
				t.Errorf("with response-content-disposition: %d, Content-Disposition %q; want 200 and the one asked for", r.status, r.header.Get("Content-Disposition"))
			}

			got, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key), Process: oss.Ptr(style)})
			if err != nil {
				t.Fatalf("SDK GetObject with Process: %v", err)
			}
			defer got.Body.Close()
			body, err := io.ReadAll(got.Body)
			if err != nil {
				t.Fatalf("reading the SDK's body: %v", err)
			}
			if img, _ := decodeImage(t, body); img.Bounds().Dx() != 256 || img.Bounds().Dy() != 256 {
				t.Errorf("SDK GetObject: %v, want 256x256", img.Bounds())
			}
		})
	}
}

// TestImageProcessTampered: x-oss-process is covered by the signature, so a
// changed, added or dropped style is refused.
func TestImageProcessTampered(t *testing.T) {
	env := newSDKEnv(t, nil)
	const key = "img/t.png"
	mustPut(t, sdkClient(env.testEnv, sdkOpts{}), key, encodePNG(t, gradient(64, 48)))
	setProcess := func(v string) func(*http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			if v == "" {
				q.Del("x-oss-process")
			} else {
				q.Set("x-oss-process", v)
			}
			r.URL.RawQuery = q.Encode()
		}
	}
	for _, s := range signers {
		for _, tc := range []struct {
			name    string
			process string // what was signed; "" none
			mutate  func(*http.Request)
			ok      bool
		}{
			// The control: the query re-encoded, the same value.
			{"same value", "image/resize,w_16", setProcess("image/resize,w_16"), true},
			{"changed", "image/resize,w_16", setProcess("image/resize,w_32"), false},
			{"dropped", "image/resize,w_16", setProcess(""), false},
			{"added", "", setProcess("image/resize,w_32"), false},
		} {
			t.Run(s.name+" "+tc.name, func(t *testing.T) {
				req := &oss.GetObjectRequest{Bucket: bucket, Key: oss.Ptr(key)}
				if tc.process != "" {
					req.Process = oss.Ptr(tc.process)
				}
				res := presign(t, sdkClient(env.testEnv, s.opts), req)
				r := sendPresigned(t, res, nil, tc.mutate)
				if !tc.ok {
					wantError(t, r, http.StatusForbidden, CodeSignatureDoesNotMatch)
					return
				}
				if img, _ := decodeImage(t, r.body); r.status != http.StatusOK || img.Bounds().Dx() != 16 {
					t.Errorf("got %d and a %v image, want 200 and 16 px wide", r.status, img.Bounds())
				}
			})
		}
	}
}

// putForm stores data under key with a signed PostObject, on an emulator on
// the tests' fixed clock.
func putForm(t *testing.T, env *testEnv, key, ct string, data []byte) {
	t.Helper()
	if r := env.postForm(t, validForm(v4Signer, key, ct, data), data, nil); r.status != http.StatusOK {
		t.Fatalf("upload %s: %v", key, r)
	}
}

// getProcessed is an anonymous GET (HEAD) of key with x-oss-process.
func (env *testEnv) getProcessed(t *testing.T, method, key, process string) result {
	t.Helper()
	u := env.url + "/" + (&url.URL{Path: key}).EscapedPath() + "?" + url.Values{"x-oss-process": {process}}.Encode()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// TestImageResize: each resize mode and parameter gives OSS's size, on a
// public-read bucket read anonymously.
func TestImageResize(t *testing.T) {
	env := newEnv(t, nil)
	putForm(t, env, "g.png", "image/png", encodePNG(t, gradient(1000, 600)))
	tall := gradient(300, 600)
	putForm(t, env, "tall.png", "image/png", encodePNG(t, tall))
	white, red := color.RGBA{0xff, 0xff, 0xff, 0xff}, color.RGBA{0xff, 0, 0, 0xff}
	tests := []struct {
		name, key, process string
		w, h               int
		check              func(t *testing.T, img image.Image)
	}{
		{name: "fill crops the centre", key: "g.png", process: "image/resize,m_fill,w_256,h_256", w: 256, h: 256,
			check: func(t *testing.T, img image.Image) {
				// 1000x600 covers 256x256 at 427x256, of which the middle
				// 600 source columns stay: the left edge is x = 200, red 51,
				// not 0 as a squash gives; the right edge x = 800, red 204.
				wantRed(t, img, 0, 128, 45, 58)
				wantRed(t, img, 255, 128, 197, 210)
			}},
		{name: "lfit keeps the ratio", key: "g.png", process: "image/resize,m_lfit,w_256,h_256", w: 256, h: 154},
		{name: "lfit is the default", key: "g.png", process: "image/resize,w_256,h_256", w: 256, h: 154},
		{name: "width only", key: "g.png", process: "image/resize,w_500", w: 500, h: 300},
		{name: "height only", key: "g.png", process: "image/resize,h_300", w: 500, h: 300},
		{name: "mfit covers", key: "g.png", process: "image/resize,m_mfit,w_256,h_256", w: 427, h: 256},
		{name: "fixed squashes", key: "g.png", process: "image/resize,m_fixed,w_100,h_100", w: 100, h: 100,
			check: func(t *testing.T, img image.Image) { wantRed(t, img, 0, 50, 0, 8) }},
		{name: "pad fills white", key: "g.png", process: "image/resize,m_pad,w_256,h_256", w: 256, h: 256,
			check: func(t *testing.T, img image.Image) {
				wantColor(t, img, 128, 2, white)
				wantColor(t, img, 128, 253, white)
			}},
		{name: "pad with color", key: "g.png", process: "image/resize,m_pad,w_256,h_256,color_FF0000", w: 256, h: 256,
			check: func(t *testing.T, img image.Image) { wantColor(t, img, 128, 2, red) }},
		{name: "fill with one side is square", key: "g.png", process: "image/resize,m_fill,w_200", w: 200, h: 200},
		{name: "long side", key: "g.png", process: "image/resize,l_500", w: 500, h: 300},
		{name: "short side", key: "g.png", process: "image/resize,s_300", w: 500, h: 300},
		{name: "long side of a portrait", key: "tall.png", process: "image/resize,l_300", w: 150, h: 300},
		{name: "long and short", key: "tall.png", process: "image/resize,m_fixed,l_400,s_100", w: 100, h: 400},
		{name: "percentage", key: "g.png", process: "image/resize,p_50", w: 500, h: 300},
		{name: "percentage of w and h", key: "g.png", process: "image/resize,m_fixed,w_100,h_100,p_150", w: 150, h: 150},
		{name: "limit_1 does not enlarge", key: "g.png", process: "image/resize,w_2000", w: 1000, h: 600},
		{name: "limit_0 enlarges", key: "g.png", process: "image/resize,w_2000,limit_0", w: 2000, h: 1200},
		{name: "actions apply in order", key: "g.png", process: "image/resize,w_500/resize,m_fixed,w_50,h_80", w: 50, h: 80},
		{name: "format alone keeps the size", key: "tall.png", process: "image/format,png", w: 300, h: 600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.getProcessed(t, http.MethodGet, tc.key, tc.process)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %v", tc.process, r)
			}
			wantProcessedHeaders(t, r, "image/png")
			img, format := decodeImage(t, r.body)
			if b := img.Bounds(); format != "png" || b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("%s: a %dx%d %s, want a %dx%d png", tc.process, b.Dx(), b.Dy(), format, tc.w, tc.h)
			}
			if tc.check != nil {
				tc.check(t, img)
			}
		})
	}

	head := env.getProcessed(t, http.MethodHead, "g.png", "image/resize,w_100")
	get := env.getProcessed(t, http.MethodGet, "g.png", "image/resize,w_100")
	if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Length") != strconv.Itoa(len(get.body)) {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %q; want 200, none, %d", head.status, len(head.body), head.header.Get("Content-Length"), len(get.body))
	}
}

func wantRed(t *testing.T, img image.Image, x, y int, lo, hi uint8) {
	t.Helper()
	r, _, _, _ := img.At(x, y).RGBA()
	if got := uint8(r >> 8); got < lo || got > hi {
		t.Errorf("red at (%d,%d) = %d, want %d..%d", x, y, got, lo, hi)
	}
}

func wantColor(t *testing.T, img image.Image, x, y int, want color.RGBA) {
	t.Helper()
	if got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); got != want {
		t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want)
	}
}

// TestImageFormat: image/format converts, image/quality changes the JPEG,
// and a source keeps its format when none is asked for.
func TestImageFormat(t *testing.T) {
	env := newEnv(t, nil)
	putForm(t, env, "g.png", "image/png", encodePNG(t, gradient(400, 300)))
	putForm(t, env, "g.jpg", "image/jpeg", encodeJPEG(t, gradient(400, 300)))
	tests := []struct {
		key, process, contentType, format string
		w, h                              int
	}{
		{"g.png", "image/resize,w_256/format,jpg", "image/jpeg", "jpeg", 256, 192},
		{"g.png", "image/format,jpeg", "image/jpeg", "jpeg", 400, 300},
		{"g.jpg", "image/resize,w_100", "image/jpeg", "jpeg", 100, 75},
		{"g.jpg", "image/format,png", "image/png", "png", 400, 300},
		{"g.png", "image/format,gif", "image/gif", "gif", 400, 300},
		{"g.png", "image/format,bmp", "image/bmp", "bmp", 400, 300},
		{"g.png", "image/format,tiff", "image/tiff", "tiff", 400, 300},
	}
	for _, tc := range tests {
		t.Run(tc.key+" "+tc.process, func(t *testing.T) {
			r := env.getProcessed(t, http.MethodGet, tc.key, tc.process)
			if r.status != http.StatusOK {
				t.Fatalf("GET: %v", r)
			}
			wantProcessedHeaders(t, r, tc.contentType)
			img, format := decodeImage(t, r.body)
			if b := img.Bounds(); format != tc.format || b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("a %dx%d %s, want a %dx%d %s", b.Dx(), b.Dy(), format, tc.w, tc.h, tc.format)
			}
		})
	}

	low := env.getProcessed(t, http.MethodGet, "g.png", "image/format,jpg/quality,q_10")
	high := env.getProcessed(t, http.MethodGet, "g.png", "image/format,jpg/quality,Q_95")
	if low.status != 200 || high.status != 200 || len(low.body) >= len(high.body) {
		t.Errorf("q_10 gave %d (%d bytes), Q_95 %d (%d bytes); want both 200, q_10 smaller", low.status, len(low.body), high.status, len(high.body))
	}
}

// TestImageInfo: image/info answers the header as OSS's JSON, for any image
// whose header reads.
func TestImageInfo(t *testing.T) {
	env := newEnv(t, nil)
	pngData, jpgData := encodePNG(t, gradient(1000, 600)), encodeJPEG(t, gradient(640, 480))
	putForm(t, env, "i.png", "image/png", pngData)
	putForm(t, env, "i.jpg", "image/jpeg", jpgData)
	for _, tc := range []struct {
		key  string
		want string
	}{
		{"i.png", `{"FileSize":{"value":"` + strconv.Itoa(len(pngData)) + `"},"Format":{"value":"png"},"ImageHeight":{"value":"600"},"ImageWidth":{"value":"1000"}}`},
		{"i.jpg", `{"FileSize":{"value":"` + strconv.Itoa(len(jpgData)) + `"},"Format":{"value":"jpg"},"ImageHeight":{"value":"480"},"ImageWidth":{"value":"640"}}`},
	} {
		r := env.getProcessed(t, http.MethodGet, tc.key, "image/info")
		if r.status != http.StatusOK || string(r.body) != tc.want {
			t.Errorf("%s image/info = %v, want 200 %s", tc.key, r, tc.want)
		}
		wantProcessedHeaders(t, r, "application/json")
	}
}

// tinyWebP is a 1x1 transparent lossless WebP (VP8L), small enough to write
// out here.
const tinyWebP = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="

// TestImageWebPSource: WebP sources are read, but the emulator has no WebP
// encoder, so they must be converted.
func TestImageWebPSource(t *testing.T) {
	env := newEnv(t, nil)
	data, err := base64.StdEncoding.DecodeString(tinyWebP)
	if err != nil {
		t.Fatal(err)
	}
	putForm(t, env, "w.webp", "image/webp", data)
	info := env.getProcessed(t, http.MethodGet, "w.webp", "image/info")
	if want := `{"FileSize":{"value":"` + strconv.Itoa(len(data)) + `"},"Format":{"value":"webp"},"ImageHeight":{"value":"1"},"ImageWidth":{"value":"1"}}`; string(info.body) != want {
		t.Errorf("image/info = %v, want %s", info, want)
	}
	r := env.getProcessed(t, http.MethodGet, "w.webp", "image/format,png")
	if img, format := decodeImage(t, r.body); r.status != http.StatusOK || format != "png" || img.Bounds().Dx() != 1 {
		t.Errorf("image/format,png = %d, a %v %s; want 200 and a 1x1 png", r.status, img.Bounds(), format)
	}
	wantError(t, env.getProcessed(t, http.MethodGet, "w.webp", "image/resize,w_1"), http.StatusNotImplemented, CodeNotImplemented)
}
