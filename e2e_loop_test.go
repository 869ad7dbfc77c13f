package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// localApp starts ossgate in local mode on loopback port 0, with its
// database and objects in a temp dir, and stops it when the test ends.
func localApp(t *testing.T, extra map[string]string) *app {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"OSSGATE_ADDR":           "127.0.0.1:0",
		"OSSGATE_LOCAL_OSS_ADDR": "127.0.0.1:0",
		"OSSGATE_DB":             filepath.Join(dir, "ossgate.db"),
		"OSSGATE_LOCAL_OSS_DIR":  filepath.Join(dir, "oss"),
		"OSSGATE_RATE_LIMIT":     "1000/s,burst=2000",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, errs := loadConfig(envOf(env))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := start(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return a
}

func postJSON(t *testing.T, url, bearer string, in, out any) int {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("decoding %s answer (%d): %v", url, res.StatusCode, err)
	}
	return res.StatusCode
}

type policyAnswer struct {
	Method, URL, Key string
	Fields           map[string]string
	Headers          map[string]string
}

// uploadForm posts the policy's fields in the order the API returns them
// (any order is valid), then the file last, as a browser would.
func uploadForm(t *testing.T, p policyAnswer, filename, contentType string, data []byte) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range p.Fields {
		mw.WriteField(k, v)
	}
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="file"; filename=%q`, filename)}
	h["Content-Type"] = []string{contentType}
	fw, _ := mw.CreatePart(h)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(p.Method, p.URL, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func TestLocalModeUploadLoop(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		req  map[string]any
	}{
		{"v4 json callback", nil, map[string]any{"filename": "hello.txt", "contentType": "text/plain", "vars": map[string]string{"caption": `say "hi" & <bye>`}}},
		{"v1 json callback", nil, map[string]any{"filename": "photo.PNG", "contentType": "image/png", "signatureVersion": "v1"}},
		{"v4 form callback", map[string]string{"OSSGATE_CALLBACK_BODY_TYPE": "form"}, map[string]any{"filename": "doc.pdf", "contentType": "application/pdf", "vars": map[string]string{"a": "x=1&y=2", "b": "ünï"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := localApp(t, tc.env)
			var tok struct{ Token string }
			if st := postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "alice"}, &tok); st != 200 {
				t.Fatalf("dev token: %d", st)
			}
			data := make([]byte, 100_000)
			rand.Read(data)
			tc.req["size"] = len(data)
			var p policyAnswer
			if st := postJSON(t, a.URL()+"/api/uploads/policy", tok.Token, tc.req, &p); st != 200 {
				t.Fatalf("policy: %d %+v", st, p)
			}
			res, body := uploadForm(t, p, tc.req["filename"].(string), tc.req["contentType"].(string), data)
			if res.StatusCode != 200 {
				t.Fatalf("upload to emulator: %d %s", res.StatusCode, body)
			}
			var got struct {
				Upload struct {
					ID, Key, ContentType, ETag, Filename string
					Size                                 int64
					Vars                                 map[string]string
				}
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("relayed answer %s: %v", body, err)
			}
			u := got.Upload
			if u.Key != p.Key || u.Size != int64(len(data)) || u.ContentType != tc.req["contentType"] || u.ETag == "" || u.Filename != tc.req["filename"] {
				t.Fatalf("record %+v for key %s", u, p.Key)
			}
			if vars, _ := tc.req["vars"].(map[string]string); len(vars) > 0 && fmt.Sprint(u.Vars) != fmt.Sprint(vars) {
				t.Errorf("vars %v, want %v", u.Vars, vars)
			}
			if served := storedObject(t, a, p.Key); !bytes.Equal(served, data) {
				t.Fatalf("emulator served %d bytes, want the %d uploaded", len(served), len(data))
			}
			req, _ := http.NewRequest("GET", a.URL()+"/api/uploads", nil)
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			lr, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			lb, _ := io.ReadAll(lr.Body)
			lr.Body.Close()
			if !strings.Contains(string(lb), u.ID) {
				t.Fatalf("list does not hold %s: %s", u.ID, lb)
			}
		})
	}
}

// A form changed after signing is refused by the emulator, and no record
// appears.
func TestLocalModeTamperedUploadRefused(t *testing.T) {
	a := localApp(t, nil)
	var tok struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "mallory"}, &tok)
	var p policyAnswer
	postJSON(t, a.URL()+"/api/uploads/policy", tok.Token, map[string]any{"filename": "a.txt", "size": 10, "contentType": "text/plain"}, &p)
	cases := []struct {
		name   string
		mutate func(p *policyAnswer) []byte
		status int
		code   string
	}{
		{"other key", func(p *policyAnswer) []byte { p.Fields["key"] = "uploads/victim/x.txt"; return make([]byte, 10) }, 403, "AccessDenied"},
		{"bigger file", func(p *policyAnswer) []byte { return make([]byte, 11) }, 400, "EntityTooLarge"},
		{"other type", func(p *policyAnswer) []byte { p.Fields["Content-Type"] = "text/html"; return make([]byte, 10) }, 403, "AccessDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := policyAnswer{Method: p.Method, URL: p.URL, Key: p.Key, Fields: map[string]string{}}
			for k, v := range p.Fields {
				q.Fields[k] = v
			}
			data := tc.mutate(&q)
			res, body := uploadForm(t, q, "a.txt", q.Fields["Content-Type"], data)
			if res.StatusCode != tc.status || !strings.Contains(string(body), "<Code>"+tc.code+"</Code>") {
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, body, tc.status, tc.code)
			}
		})
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	var out bytes.Buffer
	code := run(context.Background(), envOf(map[string]string{"OSS_ACCESS_KEY_ID": "id", "OSS_ACCESS_KEY_SECRET": "a-secret-that-must-not-print"}), &out)
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	s := out.String()
	for _, v := range []string{"OSS_BUCKET", "OSS_REGION", "OSSGATE_PUBLIC_URL", "OSSGATE_JWT_SECRET", "OSSGATE_TICKET_SECRET"} {
		if !strings.Contains(s, "  "+v+": ") {
			t.Errorf("output does not name %s:\n%s", v, s)
		}
	}
	if strings.Contains(s, "a-secret-that-must-not-print") {
		t.Errorf("output leaks the secret:\n%s", s)
	}
}

func TestRunStartsAndStopsInLocalMode(t *testing.T) {
	dir := t.TempDir()
	env := envOf(map[string]string{
		"OSSGATE_ADDR": "127.0.0.1:0", "OSSGATE_LOCAL_OSS_ADDR": "127.0.0.1:0",
		"OSSGATE_DB": filepath.Join(dir, "db"), "OSSGATE_LOCAL_OSS_DIR": filepath.Join(dir, "oss"),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out syncBuffer
	if code := run(ctx, env, &out); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, out.String())
	}
	if s := out.String(); !strings.Contains(s, "ossgate listening on 127.0.0.1:") || !strings.Contains(s, "local mode") {
		t.Errorf("start-up output does not say where it listens:\n%s", s)
	}
}

// A port in use is reported naming its variable, without a panic, and what
// was opened before the failure is released.
func TestStartReportsBusyPorts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct{ variable string }{{"OSSGATE_ADDR"}, {"OSSGATE_LOCAL_OSS_ADDR"}}
	for _, tc := range cases {
		t.Run(tc.variable, func(t *testing.T) {
			dir := t.TempDir()
			free, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			freeAddr := free.Addr().String()
			free.Close()
			env := map[string]string{
				"OSSGATE_ADDR": freeAddr, "OSSGATE_LOCAL_OSS_ADDR": freeAddr,
				"OSSGATE_DB": filepath.Join(dir, "db"), "OSSGATE_LOCAL_OSS_DIR": filepath.Join(dir, "oss"),
			}
			env[tc.variable] = busy.Addr().String()
			cfg, errs := loadConfig(envOf(env))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			a, err := start(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err == nil {
				a.close()
				t.Fatal("start succeeded on a busy port")
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("error %q does not name %s", err, tc.variable)
			}
			if tc.variable == "OSSGATE_ADDR" {
				return
			}
			// The API listener opened before the emulator failed was closed:
			// its address can be bound again.
			var code int
			var out syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			env["OSSGATE_LOCAL_OSS_ADDR"] = "127.0.0.1:0"
			code = run(ctx, envOf(env), &out)
			if code != 0 {
				t.Fatalf("restart after the failure: exit %d\n%s", code, out.String())
			}
		})
	}
}
