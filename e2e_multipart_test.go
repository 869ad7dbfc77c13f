package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// mpClient drives the multipart API of a local-mode app as a client would.
type mpClient struct {
	t      *testing.T
	base   string
	bearer string
}

type mpSession struct {
	UploadID, Key, State string
	Size, PartSize       int64
	PartCount            int
	Parts                []struct {
		PartNumber int
		ETag       string
		Size       int64
	}
}

type mpPart struct {
	PartNumber  int
	Method, URL string
	Headers     map[string]string
	Size        int64
}

// call sends a JSON request and decodes the answer; it returns the status
// and the error code, if any.
func (c *mpClient) call(method, path string, in, out any) (int, string) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.bearer)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(raw, &e)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return res.StatusCode, e.Error.Code
}

func (c *mpClient) create(size int64) mpSession {
	c.t.Helper()
	var s mpSession
	if st, code := c.call("POST", "/api/uploads/multipart", map[string]any{"filename": "clip.mp4", "size": size, "contentType": "video/mp4"}, &s); st != 200 {
		c.t.Fatalf("create: %d %s", st, code)
	}
	return s
}

func (c *mpClient) sign(id string, numbers ...int) []mpPart {
	c.t.Helper()
	var out struct{ Parts []mpPart }
	if st, code := c.call("POST", "/api/uploads/multipart/"+id+"/parts", map[string]any{"partNumbers": numbers}, &out); st != 200 {
		c.t.Fatalf("sign %v: %d %s", numbers, st, code)
	}
	return out.Parts
}

// put sends one part's bytes to its presigned URL, as a browser would.
func (c *mpClient) put(p mpPart, data []byte) string {
	c.t.Helper()
	req, _ := http.NewRequest(p.Method, p.URL, bytes.NewReader(data))
	for k, v := range p.Headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		c.t.Fatalf("PUT part %d: %d %s", p.PartNumber, res.StatusCode, b)
	}
	return res.Header.Get("ETag")
}

func randomBytes(t *testing.T, n int64) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLocalModeMultipartUpload: create, sign, PUT each part to OSS, resume
// from the status, complete; the object is the bytes sent (read with the
// official SDK) and there is one record. Then every refusal.
func TestLocalModeMultipartUpload(t *testing.T) {
	a := localApp(t, map[string]string{"OSSGATE_LOCAL_OSS_ACCESS_KEY_ID": "LOCALTESTKEY", "OSSGATE_LOCAL_OSS_ACCESS_KEY_SECRET": "local-test-secret"})
	var tok, tokB struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "alice"}, &tok)
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "bob"}, &tokB)
	alice := &mpClient{t, a.URL(), tok.Token}
	bob := &mpClient{t, a.URL(), tokB.Token}

	const size = 20<<20 + 12345 // 8 MiB + 8 MiB + the rest
	data := randomBytes(t, size)
	s := alice.create(size)
	if s.PartCount != 3 || s.PartSize != 8<<20 || s.State != "open" {
		t.Fatalf("session %+v", s)
	}
	part := func(n int) []byte {
		lo := int64(n-1) * s.PartSize
		return data[lo:min(lo+s.PartSize, size)]
	}
	// Two parts now; the app is "killed"; the status says what OSS holds.
	for _, p := range alice.sign(s.UploadID, 1, 3) {
		alice.put(p, part(p.PartNumber))
	}
	var st mpSession
	alice.call("GET", "/api/uploads/multipart/"+s.UploadID, nil, &st)
	if len(st.Parts) != 2 || st.Parts[0].PartNumber != 1 || st.Parts[1].PartNumber != 3 {
		t.Fatalf("status after two parts: %+v", st.Parts)
	}
	if code, c := alice.call("POST", "/api/uploads/multipart/"+s.UploadID+"/complete", map[string]any{}, nil); code != 409 || c != "upload_incomplete" {
		t.Errorf("complete with part 2 missing: %d %s, want 409 upload_incomplete", code, c)
	}
	if code, c := bob.call("POST", "/api/uploads/multipart/"+s.UploadID+"/parts", map[string]any{"partNumbers": []int{2}}, nil); code != 404 || c != "not_found" {
		t.Errorf("bob signs alice's part: %d %s, want 404", code, c)
	}
	for _, n := range []int{0, 4, -1, 10001} {
		if code, c := alice.call("POST", "/api/uploads/multipart/"+s.UploadID+"/parts", map[string]any{"partNumbers": []int{n}}, nil); code != 400 || c != "invalid_request" {
			t.Errorf("part number %d: %d %s, want 400", n, code, c)
		}
	}
	alice.put(alice.sign(s.UploadID, 2)[0], part(2))
	var done struct {
		Upload struct {
			ID, Key, ETag string
			Size          int64
		}
	}
	if code, c := alice.call("POST", "/api/uploads/multipart/"+s.UploadID+"/complete", map[string]any{}, &done); code != 200 {
		t.Fatalf("complete: %d %s", code, c)
	}
	if done.Upload.Size != size || done.Upload.Key != s.Key || !strings.HasSuffix(done.Upload.ETag, "-3") {
		t.Errorf("record %+v", done.Upload)
	}
	if code, c := alice.call("POST", "/api/uploads/multipart/"+s.UploadID+"/complete", map[string]any{}, nil); code != 409 || c != "upload_closed" {
		t.Errorf("complete again: %d %s, want 409 upload_closed", code, c)
	}
	if code, c := alice.call("POST", "/api/uploads/multipart/"+s.UploadID+"/parts", map[string]any{"partNumbers": []int{1}}, nil); code != 409 || c != "upload_closed" {
		t.Errorf("sign after completion: %d %s, want 409 upload_closed", code, c)
	}

	// The object, read with the official SDK as a backend would.
	sdk := oss.NewClient(oss.NewConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider("LOCALTESTKEY", "local-test-secret")).
		WithRegion(a.cfg.Region).WithEndpoint(a.cfg.OSSEndpoint).WithUsePathStyle(true))
	got, err := sdk.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(a.cfg.Bucket), Key: oss.Ptr(s.Key)})
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	io.Copy(h, got.Body)
	got.Body.Close()
	want := md5.Sum(data)
	if hex.EncodeToString(h.Sum(nil)) != hex.EncodeToString(want[:]) {
		t.Error("the object's bytes are not the bytes sent")
	}
	var list struct{ Uploads []struct{ Key string } }
	alice.call("GET", "/api/uploads", nil, &list)
	if n := strings.Count(fmt.Sprint(list.Uploads), s.Key); n != 1 {
		t.Errorf("%d records of the key, want 1", n)
	}

	// More bytes than declared: refused, and the upload aborted.
	big := alice.create(9 << 20) // 8 MiB + 1 MiB
	alice.put(alice.sign(big.UploadID, 1)[0], randomBytes(t, 8<<20))
	alice.put(alice.sign(big.UploadID, 2)[0], randomBytes(t, 2<<20))
	if code, c := alice.call("POST", "/api/uploads/multipart/"+big.UploadID+"/complete", map[string]any{}, nil); code != 422 || c != "size_mismatch" {
		t.Errorf("more bytes than declared: %d %s, want 422 size_mismatch", code, c)
	}
	alice.call("GET", "/api/uploads/multipart/"+big.UploadID, nil, &st)
	if st.State != "aborted" {
		t.Errorf("after size_mismatch the session is %q, want aborted", st.State)
	}

	// Abort, then reuse.
	ab := alice.create(1 << 20)
	if code, c := bob.call("DELETE", "/api/uploads/multipart/"+ab.UploadID, nil, nil); code != 404 {
		t.Errorf("bob aborts alice's upload: %d %s", code, c)
	}
	if code, c := alice.call("DELETE", "/api/uploads/multipart/"+ab.UploadID, nil, nil); code != 204 {
		t.Errorf("abort: %d %s", code, c)
	}
	if code, c := alice.call("POST", "/api/uploads/multipart/"+ab.UploadID+"/complete", map[string]any{}, nil); code != 409 || c != "upload_closed" {
		t.Errorf("complete after abort: %d %s, want 409 upload_closed", code, c)
	}
	alice.call("GET", "/api/uploads", nil, &list)
	if len(list.Uploads) != 1 {
		t.Errorf("%d records, want only the completed upload's", len(list.Uploads))
	}
	// Sizes the rules refuse.
	for _, bad := range []map[string]any{
		{"filename": "a.mp4", "size": 0, "contentType": "video/mp4"},
		{"filename": "a.mp4", "size": 2 << 30, "contentType": "video/mp4"},
		{"filename": "a.exe", "size": 10, "contentType": "application/x-msdownload"},
	} {
		if code, _ := alice.call("POST", "/api/uploads/multipart", bad, nil); code/100 != 4 {
			t.Errorf("create %v: %d, want a 4xx", bad, code)
		}
	}
}
