package ossemu

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/xml"
	"hash/crc32"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// imageErrEC is the <EC> OSS puts in an image-processing error document.
func imageErrEC(t *testing.T, r result) string {
	t.Helper()
	var e struct{ EC string }
	if err := xml.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("not an XML error: %q", r.body)
	}
	return e.EC
}

// TestImageProcessErrors: bad styles, unknown actions, values out of range
// and objects that are no image get OSS's codes; the image is not
// answered unprocessed.
func TestImageProcessErrors(t *testing.T) {
	env := newEnv(t, nil)
	putForm(t, env, "p.png", "image/png", encodePNG(t, gradient(300, 200)))
	putForm(t, env, "note.txt", "text/plain", []byte("not an image at all, though it is long enough to sniff"))
	tests := []struct {
		name, key, process string
		status             int
		code, ec           string
	}{
		{"text resized", "note.txt", "image/resize,w_100", 400, CodeBadRequest, "0040-00000005"},
		{"text info", "note.txt", "image/info", 400, CodeBadRequest, "0040-00000005"},
		{"missing key", "nope.png", "image/resize,w_100", 404, CodeNoSuchKey, ""},
		{"unknown action", "p.png", "image/slim,1", 400, CodeInvalidArgument, "0040-00000213"},
		{"empty action", "p.png", "image/", 400, CodeInvalidArgument, "0040-00000212"},
		{"action not emulated", "p.png", "image/rotate,90", 501, CodeNotImplemented, ""},
		{"w 0", "p.png", "image/resize,w_0", 400, CodeInvalidArgument, "0040-00000312"},
		{"w too large", "p.png", "image/resize,w_16385", 400, CodeInvalidArgument, "0040-00000312"},
		{"w not a number", "p.png", "image/resize,w_abc", 400, CodeInvalidArgument, "0040-00000312"},
		{"w negative", "p.png", "image/resize,w_-5", 400, CodeInvalidArgument, "0040-00000312"},
		{"s 0", "p.png", "image/resize,s_0", 400, CodeInvalidArgument, "0040-00000315"},
		{"p too large", "p.png", "image/resize,p_1001", 400, CodeInvalidArgument, "0040-00000317"},
		{"bad mode", "p.png", "image/resize,w_100,m_abc", 400, CodeInvalidArgument, "0040-00000311"},
		{"bad limit", "p.png", "image/resize,w_100,limit_3", 400, CodeInvalidArgument, "0040-00000319"},
		{"bad color", "p.png", "image/resize,m_pad,w_100,h_100,color_red", 400, CodeInvalidArgument, ""},
		{"unknown parameter", "p.png", "image/resize,w_100,x_5", 400, CodeInvalidArgument, ""},
		{"repeated parameter", "p.png", "image/resize,w_100,w_200", 400, CodeInvalidArgument, ""},
		{"no size", "p.png", "image/resize,m_fill", 400, CodeMissingArgument, ""},
		{"result too large", "p.png", "image/resize,m_fixed,w_5000,h_5000,limit_0", 400, CodeInvalidArgument, "0040-00000007"},
		{"format without value", "p.png", "image/format", 400, CodeInvalidArgument, "0040-00000207"},
		{"unknown format", "p.png", "image/format,dng", 400, CodeInvalidArgument, "0040-00000206"},
		{"webp output", "p.png", "image/format,webp", 501, CodeNotImplemented, ""},
		{"quality 0", "p.png", "image/format,jpg/quality,q_0", 400, CodeInvalidArgument, ""},
		{"info with parameters", "p.png", "image/info,x_1", 400, CodeInvalidArgument, ""},
		{"info after resize", "p.png", "image/resize,w_10/info", 501, CodeNotImplemented, ""},
		{"too many actions", "p.png", "image" + strings.Repeat("/resize,w_10", 11), 400, CodeInvalidArgument, ""},
		{"style", "p.png", "style/thumb", 404, CodeNoSuchStyle, ""},
		{"not image nor style", "p.png", "foo/bar", 400, CodeInvalidArgument, ""},
		{"too long", "p.png", "image/resize,w_10" + strings.Repeat(",m_lfit", 600), 400, CodeInvalidArgument, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.getProcessed(t, http.MethodGet, tc.key, tc.process)
			wantError(t, r, tc.status, tc.code)
			if got := imageErrEC(t, r); got != tc.ec {
				t.Errorf("EC = %q, want %q", got, tc.ec)
			}
		})
	}
}

// TestImageProcessPrivateBucket: a private bucket processes only signed
// requests; an anonymous one is refused before anything is decoded.
func TestImageProcessPrivateBucket(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.PublicRead = false })
	putForm(t, env, "p.png", "image/png", encodePNG(t, gradient(30, 20)))
	wantError(t, env.getProcessed(t, http.MethodGet, "p.png", "image/resize,w_10"), http.StatusForbidden, CodeAccessDenied)
}

// pngHeader is a PNG whose header claims w x h pixels, followed by a tiny
// IDAT: a decompression bomb's shape, without the bytes.
func pngHeader(w, h uint32, bitDepth, colorType byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, bitDepth, colorType, 0, 0, 0))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 1024))
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// TestImageBombRefused: images whose header claims more than the emulator
// decodes, or files over 20 MB, are refused from the header alone: fast,
// and without allocating what the header claims (gigabytes).
func TestImageBombRefused(t *testing.T) {
	env := newEnv(t, nil)
	const rgba = 6 // PNG colour type: RGB with alpha
	big := append(pngHeader(100, 100, 8, rgba), make([]byte, 21<<20)...)
	tests := []struct {
		name string
		data []byte
	}{
		{"100000 px a side", pngHeader(100000, 100000, 8, rgba)},
		{"400 megapixels", pngHeader(20000, 20000, 8, rgba)},
		{"36 megapixels of 16-bit RGBA", pngHeader(6000, 6000, 16, rgba)},
		{"a 21 MB file", big},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "bomb/" + strings.ReplaceAll(tc.name, " ", "-") + ".png"
			putForm(t, env, key, "image/png", tc.data)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			r := env.getProcessed(t, http.MethodGet, key, "image/resize,w_100")
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if took > 2*time.Second {
				t.Errorf("answering took %v, want it quick", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("answering allocated %d MB, want under 16: the pixels must not be decoded", alloc>>20)
			}
			wantError(t, r, http.StatusBadRequest, CodeImageTooLarge)
		})
	}
	// image/info reads only the header, so even a bomb's is answered.
	putForm(t, env, "bomb/info.png", "image/png", pngHeader(100000, 100000, 8, rgba))
	r := env.getProcessed(t, http.MethodGet, "bomb/info.png", "image/info")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"ImageWidth":{"value":"100000"}`) {
		t.Errorf("image/info of the bomb = %v, want 200 with its claimed width", r)
	}
}
