package main

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// patternReader yields n bytes of a fixed pattern from offset off, without
// holding them: the big tests stream gigabytes through the service.
type patternReader struct{ off, n int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		x := r.off + int64(i)
		p[i] = byte(x*131 + x>>13)
	}
	r.off += int64(len(p))
	r.n -= int64(len(p))
	return len(p), nil
}

// procStatus reads a VmRSS/VmHWM figure of this process, in MiB.
func procStatus(t *testing.T, field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// TestBigMultipartVersusPost sends 1 GiB through local mode as a
// multipart upload (4 parts at a time) and the same bytes as one POST, in
// one run, and reports throughput and this process's memory: ossgate, the
// emulator and the client all run in it, and the bytes are generated on the
// fly, so growth is the service's. OSSGATE_BIG=1 runs it (it writes 2 GiB
// to a temporary directory).
func TestBigMultipartVersusPost(t *testing.T) {
	if os.Getenv("OSSGATE_BIG") == "" {
		t.Skip("set OSSGATE_BIG=1 to send 1 GiB twice")
	}
	const size = 1 << 30
	a := localApp(t, map[string]string{"OSSGATE_MAX_SIZE": strconv.Itoa(size)})
	var tok struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "alice"}, &tok)
	c := &mpClient{t, a.URL(), tok.Token}
	runtime.GC()
	rss0, hwm0 := procStatus(t, "VmRSS"), procStatus(t, "VmHWM")

	start := time.Now()
	s := c.create(size)
	numbers := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range numbers {
				p := c.sign(s.UploadID, n)[0]
				off := int64(n-1) * s.PartSize
				req, _ := http.NewRequest("PUT", p.URL, &patternReader{off: off, n: p.Size})
				req.ContentLength = p.Size
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != 200 {
					t.Errorf("part %d: %v %v", n, res, err)
					return
				}
				res.Body.Close()
			}
		}()
	}
	for n := 1; n <= s.PartCount; n++ {
		numbers <- n
	}
	close(numbers)
	wg.Wait()
	var done struct{ Upload struct{ Size int64 } }
	if st, code := c.call("POST", "/api/uploads/multipart/"+s.UploadID+"/complete", map[string]any{}, &done); st != 200 || done.Upload.Size != size {
		t.Fatalf("complete: %d %s %+v", st, code, done)
	}
	mpTime := time.Since(start)
	rss1, hwm1 := procStatus(t, "VmRSS"), procStatus(t, "VmHWM")

	// The same bytes as one POST form, streamed.
	start = time.Now()
	var p policyAnswer
	if st := postJSON(t, a.URL()+"/api/uploads/policy", tok.Token, map[string]any{"filename": "big.mp4", "size": size, "contentType": "video/mp4"}, &p); st != 200 {
		t.Fatalf("policy: %d", st)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, v := range p.Fields {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", "big.mp4")
		io.Copy(fw, &patternReader{n: size})
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", p.URL, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("POST: %v %v", res, err)
	}
	res.Body.Close()
	postTime := time.Since(start)
	rss2, hwm2 := procStatus(t, "VmRSS"), procStatus(t, "VmHWM")

	// The multipart object holds the bytes sent.
	var link struct{ URL string }
	var list struct{ Uploads []struct{ ID, Key string } }
	c.call("GET", "/api/uploads", nil, &list)
	for _, u := range list.Uploads {
		if u.Key == s.Key {
			c.call("GET", "/api/uploads/"+u.ID+"/url", nil, &link)
		}
	}
	got, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	n, _ := io.Copy(h, got.Body)
	got.Body.Close()
	w := md5.New()
	io.Copy(w, &patternReader{n: size})
	if n != size || hex.EncodeToString(h.Sum(nil)) != hex.EncodeToString(w.Sum(nil)) {
		t.Errorf("the multipart object is not the bytes sent (%d bytes)", n)
	}

	mib := float64(size) / (1 << 20)
	t.Logf("multipart: %d parts of %d MiB, 4 at a time: %v, %.0f MiB/s", s.PartCount, s.PartSize>>20, mpTime.Round(time.Millisecond), mib/mpTime.Seconds())
	t.Logf("one POST:  %v, %.0f MiB/s", postTime.Round(time.Millisecond), mib/postTime.Seconds())
	t.Logf("memory of this process (ossgate + emulator + client): RSS %.1f → %.1f → %.1f MiB, peak (VmHWM) %.1f → %.1f → %.1f MiB",
		rss0, rss1, rss2, hwm0, hwm1, hwm2)
	if grow := hwm2 - hwm0; grow > 50 {
		t.Errorf("peak memory grew %.1f MiB for 2 GiB sent, want under 50", grow)
	}
}
