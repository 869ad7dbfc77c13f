package ossemu

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestLargeUploadMemory streams a 1 GiB upload through a real loopback
// connection and checks the process does not grow with the file. It needs a
// GiB of disk and some seconds, so it runs only when asked:
//
//	OSSEMU_BIG=1 go test -run TestLargeUploadMemory -v ./ossemu/
func TestLargeUploadMemory(t *testing.T) {
	if os.Getenv("OSSEMU_BIG") == "" {
		t.Skip("set OSSEMU_BIG=1 to stream a 1 GiB upload")
	}
	const size = 1 << 30
	const limitMB = 50

	env := newEnv(t, nil)
	const key, ct = "big/one-gib.bin", "application/octet-stream"
	form := v4Signer.sign(testNow.Add(time.Hour), []any{
		map[string]string{"bucket": testBucket},
		[]any{"eq", "$key", key},
		[]any{"content-length-range", 1, 2 * size},
		[]any{"eq", "$Content-Type", ct},
		[]any{"eq", "$success_action_status", "200"},
	}, stdFields(key, ct))

	runtime.GC()
	resetPeakRSS()
	rssBefore, _ := procStatusKB("VmRSS")
	var msBefore runtime.MemStats
	runtime.ReadMemStats(&msBefore)

	// Sample the heap while the upload runs: HeapInuse at the end alone
	// could miss a transient buffer.
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	// The body is generated as it is sent: a fixed 64 KiB block repeated,
	// through multipart.Writer into an io.Pipe. Nothing holds the whole file.
	gen := &blockReader{left: size}
	for i := range gen.block {
		gen.block[i] = byte(i*7 + i>>8)
	}
	sum := md5.New()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range form {
			if err := mw.WriteField(f.name, f.value); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		fw, err := mw.CreateFormFile("file", "one-gib.bin")
		if err == nil {
			_, err = io.Copy(io.MultiWriter(fw, sum), gen)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, env.url+"/", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	start := time.Now()
	r := do(t, req)
	elapsed := time.Since(start)
	close(stop)
	<-sampled

	var msAfter runtime.MemStats
	runtime.ReadMemStats(&msAfter)
	rssAfter, _ := procStatusKB("VmRSS")
	hwm, _ := procStatusKB("VmHWM")

	if r.status != http.StatusOK {
		t.Fatalf("upload: %v", r)
	}
	wantETag := `"` + strings.ToUpper(hex.EncodeToString(sum.Sum(nil))) + `"`
	if got := r.header.Get("ETag"); got != wantETag {
		t.Errorf("ETag = %s, want %s", got, wantETag)
	}
	f, meta, err := env.emu.store.open(key)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.Stat()
	f.Close()
	if meta.Size != size || info.Size() != size {
		t.Errorf("stored size %d (file %d), want %d", meta.Size, info.Size(), size)
	}

	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	rssGrowth := mb(rssAfter - rssBefore)
	peakGrowth := mb(hwm - rssBefore)
	heapPeakGrowth := float64(int64(peakHeap.Load())-int64(msBefore.HeapInuse)) / (1 << 20)
	t.Logf("1 GiB upload in %v (%.0f MiB/s)", elapsed.Round(time.Millisecond), float64(size)/(1<<20)/elapsed.Seconds())
	t.Logf("VmRSS before %.1f MiB, after %.1f MiB (+%.1f MiB); VmHWM %.1f MiB (peak +%.1f MiB over before)",
		mb(rssBefore), mb(rssAfter), rssGrowth, mb(hwm), peakGrowth)
	t.Logf("HeapInuse before %.1f MiB, after %.1f MiB, sampled peak %.1f MiB (+%.1f MiB)",
		float64(msBefore.HeapInuse)/(1<<20), float64(msAfter.HeapInuse)/(1<<20), float64(peakHeap.Load())/(1<<20), heapPeakGrowth)
	if peakGrowth >= limitMB {
		t.Errorf("peak RSS grew by %.1f MiB during a 1 GiB upload, want < %d", peakGrowth, limitMB)
	}
	if heapPeakGrowth >= limitMB {
		t.Errorf("heap grew by %.1f MiB during a 1 GiB upload, want < %d", heapPeakGrowth, limitMB)
	}
}

// blockReader yields left bytes, repeating block.
type blockReader struct {
	block [64 << 10]byte
	left  int64
	off   int
}

func (b *blockReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, b.block[b.off:])
	if int64(n) > b.left {
		n = int(b.left)
	}
	b.off = (b.off + n) % len(b.block)
	b.left -= int64(n)
	return n, nil
}

// procStatusKB reads one "Name: N kB" line of /proc/self/status.
func procStatusKB(name string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, io.ErrUnexpectedEOF
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux
// clear_refs "5"), so the peak measured is this test's own.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// TestLargeMultipartMemory uploads 1 GiB as 16 parts through presigned
// UploadPart URLs (as a browser would), completes with the SDK, and checks
// the process does not grow with the upload: parts stream to disk and are
// joined on disk. Run it with
//
//	OSSEMU_BIG=1 go test -run TestLargeMultipartMemory -v ./ossemu/
func TestLargeMultipartMemory(t *testing.T) {
	if os.Getenv("OSSEMU_BIG") == "" {
		t.Skip("set OSSEMU_BIG=1 to upload 1 GiB in parts")
	}
	const parts, partSize = 16, 64 << 20
	const limitMB = 50
	env := newSDKEnv(t, nil)
	c := sdkClient(env.testEnv, sdkOpts{})
	const key = "big/multipart.bin"
	id := initiate(t, c, key)

	runtime.GC()
	resetPeakRSS()
	rssBefore, _ := procStatusKB("VmRSS")
	start := time.Now()
	var done []oss.UploadPart
	whole := md5.New()
	for n := int32(1); n <= parts; n++ {
		res := presign(t, c, &oss.UploadPartRequest{Bucket: bucket, Key: oss.Ptr(key), UploadId: oss.Ptr(id), PartNumber: n})
		gen := &blockReader{left: partSize}
		for i := range gen.block {
			gen.block[i] = byte(i*7+i>>8) ^ byte(n)
		}
		partSum := md5.New()
		req, _ := http.NewRequest(res.Method, res.URL, io.TeeReader(gen, io.MultiWriter(partSum, whole)))
		req.ContentLength = partSize
		for k, v := range res.SignedHeaders {
			req.Header.Set(k, v)
		}
		r := do(t, req)
		if want := `"` + strings.ToUpper(hex.EncodeToString(partSum.Sum(nil))) + `"`; r.status != 200 || r.header.Get("ETag") != want {
			t.Fatalf("part %d: %v, ETag %s want %s", n, r, r.header.Get("ETag"), want)
		}
		done = append(done, oss.UploadPart{PartNumber: n, ETag: oss.Ptr(r.header.Get("ETag"))})
	}
	uploaded := time.Since(start)
	res, err := c.CompleteMultipartUpload(context.Background(), &oss.CompleteMultipartUploadRequest{Bucket: bucket, Key: oss.Ptr(key),
		UploadId: oss.Ptr(id), CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	elapsed := time.Since(start)
	rssAfter, _ := procStatusKB("VmRSS")
	hwm, _ := procStatusKB("VmHWM")

	f, meta, err := env.emu.store.open(key)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.New()
	_, err = io.Copy(sum, f)
	f.Close()
	if err != nil || meta.Size != parts*partSize || !bytes.Equal(sum.Sum(nil), whole.Sum(nil)) {
		t.Errorf("stored object: size %d, err %v, content matches %v", meta.Size, err, bytes.Equal(sum.Sum(nil), whole.Sum(nil)))
	}
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	t.Logf("1 GiB in %d parts uploaded in %v, completed (joined) in %v; ETag %s", parts, uploaded.Round(time.Millisecond),
		(elapsed - uploaded).Round(time.Millisecond), oss.ToString(res.ETag))
	t.Logf("VmRSS before %.1f MiB, after %.1f MiB (+%.1f MiB); VmHWM %.1f MiB (peak +%.1f MiB over before)",
		mb(rssBefore), mb(rssAfter), mb(rssAfter-rssBefore), mb(hwm), mb(hwm-rssBefore))
	if growth := mb(hwm - rssBefore); growth >= limitMB {
		t.Errorf("peak RSS grew by %.1f MiB during a 1 GiB multipart upload, want < %d", growth, limitMB)
	}
}
