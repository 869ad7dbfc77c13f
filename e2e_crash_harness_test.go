package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ossgate/ossgate/internal/osstest"
)

// crashEnv runs the real binary so that it can be killed and restarted on
// the same data: local mode, but with fixed JWT and ticket secrets (tickets
// issued before a restart stay valid after it), one SQLite file for every
// run, and a callback key host of the test's own, allowlisted.
type crashEnv struct {
	bin       string
	env       []string
	jwtSecret []byte
	key       *rsa.PrivateKey // the test's "OSS" callback key
	keyURL    string
	client    *http.Client
}

func newCrashEnv(t *testing.T, bin string) *crashEnv {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(pubPEM) }))
	t.Cleanup(keys.Close)
	e := &crashEnv{
		bin:       bin,
		jwtSecret: []byte("crash-test-jwt-secret-0123456789abcdef"),
		key:       key,
		keyURL:    keys.URL + "/callback_pub_key_v1.pem",
		client: &http.Client{
			Timeout:   15 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 5 * time.Second},
		},
	}
	t.Cleanup(e.client.CloseIdleConnections)
	e.env = []string{
		"OSSGATE_JWT_SECRET=" + string(e.jwtSecret),
		"OSSGATE_TICKET_SECRET=crash-test-ticket-secret-0123456789abcdef",
		"OSSGATE_DB=" + filepath.Join(t.TempDir(), "ossgate.db"),
		"OSSGATE_CALLBACK_KEY_URLS=" + keys.URL + "/callback_pub_key_v1.pem",
		"OSSGATE_RATE_LIMIT=1000000/s,burst=1000000",
		// No OSS here: the callbacks are played by the test, so there is no
		// object to HeadObject. Durability is what this harness checks.
		"OSSGATE_CALLBACK_CONFIRM=off",
	}
	return e
}

// start runs the binary on the shared database (startProcess's own
// OSSGATE_DB is overridden: the last value of a repeated variable wins).
func (e *crashEnv) start(t *testing.T) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	return startProcess(t, e.bin, e.env...)
}

// bearer is a JWT for sub, signed with the fixed secret.
func (e *crashEnv) bearer(t *testing.T, sub string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(e.jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call makes one request and decodes a JSON answer into out (when not nil
// and the status is 200). Transport errors are returned, not fatal: the
// server may be killed under it.
func (e *crashEnv) call(method, url, bearer string, body []byte, header http.Header, out any) (int, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("decoding %s: %w", b, err)
		}
	}
	return res.StatusCode, nil
}

// ossCallback is one callback as OSS would send it after an upload: signed
// once, so a re-delivery is the same bytes.
type ossCallback struct {
	user, key string
	path      string // the callback URL's path; the host changes with every restart
	body      []byte
	header    http.Header
}

// prepareCallback renders the policy's callback body the way OSS does for a
// JSON body (strings quoted, size a number) and signs it with the test's key.
func (e *crashEnv) prepareCallback(t *testing.T, user string, p policyAnswer, size int64, mimeType string) ossCallback {
	t.Helper()
	cb, err := osstest.DecodeCallback(p.Fields["callback"])
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cb.URL)
	if err != nil {
		t.Fatal(err)
	}
	body := cb.RenderBody(osstest.Object{Bucket: localBucket, Key: p.Key, ETag: fmt.Sprintf("%032X", len(p.Key)), MimeType: mimeType, Size: size}, p.Fields)
	sig, err := osstest.Sign(e.key, u.EscapedPath(), u.RawQuery, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", cb.BodyType)
	h.Set("Authorization", sig)
	h.Set("X-Oss-Pub-Key-Url", base64.StdEncoding.EncodeToString([]byte(e.keyURL)))
	return ossCallback{user: user, key: p.Key, path: u.EscapedPath(), body: []byte(body), header: h}
}

// deliver posts the callback to the server at base and returns the status
// and, on 200, the record's id.
func (e *crashEnv) deliver(base string, cb ossCallback) (int, string, error) {
	var out struct {
		Upload struct{ ID, Key string }
	}
	status, err := e.call("POST", base+cb.path, "", cb.body, cb.header, &out)
	if err == nil && status == http.StatusOK && (out.Upload.ID == "" || out.Upload.Key != cb.key) {
		err = fmt.Errorf("200 without the record of %s: %+v", cb.key, out.Upload)
	}
	return status, out.Upload.ID, err
}

// listAll pages through every record of the user and returns their keys
// and ids in order.
func (e *crashEnv) listAll(t *testing.T, base, bearer string) (keys, ids []string) {
	t.Helper()
	cursor := ""
	for page := 0; ; page++ {
		var l struct {
			Uploads    []struct{ ID, Key string }
			NextCursor *string
		}
		u := base + "/api/uploads?limit=200"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		status, err := e.call("GET", u, bearer, nil, nil, &l)
		if err != nil || status != 200 {
			t.Fatalf("list page %d: %d %v", page, status, err)
		}
		for _, r := range l.Uploads {
			keys, ids = append(keys, r.Key), append(ids, r.ID)
		}
		if l.NextCursor == nil {
			return keys, ids
		}
		cursor = *l.NextCursor
	}
}

// rawExchange writes raw bytes to addr (beside the read: the server may
// answer before reading everything) and reads one answer, or returns the
// read error (a closed connection) within wait.
func rawExchange(t *testing.T, addr string, raw []byte, wait time.Duration) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	go conn.Write(raw)
	return readRaw(conn)
}

func dialRaw(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }

// readRaw reads one HTTP answer from conn.
func readRaw(conn net.Conn) (*http.Response, []byte, error) {
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}
