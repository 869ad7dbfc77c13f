package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Presigned PUT end to end: ossgate presigns, the client PUTs the raw file
// to the emulator with the given headers, the emulator verifies the
// signature, stores the object, calls back, and relays the record.
func TestLocalModePresignedPut(t *testing.T) {
	a := localApp(t, nil)
	var tok struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "mobile-user"}, &tok)
	cases := []struct {
		name     string
		version  string
		size     int
		send     int // bytes actually sent
		wantCode int
	}{
		{"v4", "v4", 50_000, 50_000, 200},
		{"v1", "v1", 50_000, 50_000, 200},
		{"v4 larger than declared", "v4", 1000, 1001, 203},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p struct {
				Method, URL, Key string
				Headers          map[string]string
			}
			req := map[string]any{"filename": "clip.mp4", "size": tc.size, "contentType": "video/mp4", "vars": map[string]string{"device": "pixel 9"}, "signatureVersion": tc.version}
			if st := postJSON(t, a.URL()+"/api/uploads/presign", tok.Token, req, &p); st != 200 || p.Method != "PUT" {
				t.Fatalf("presign: %d %+v", st, p)
			}
			data := make([]byte, tc.send)
			rand.Read(data)
			put, _ := http.NewRequest(p.Method, p.URL, bytes.NewReader(data))
			for k, v := range p.Headers {
				put.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(put)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantCode {
				t.Fatalf("PUT: %d %s, want %d", res.StatusCode, body, tc.wantCode)
			}
			if tc.wantCode == 203 {
				if !strings.Contains(string(body), "CallbackFailed") {
					t.Fatalf("203 without CallbackFailed: %s", body)
				}
				return
			}
			var got struct {
				Upload struct {
					Key, ContentType string
					Size             int64
					Vars             map[string]string
				}
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("relayed answer %s: %v", body, err)
			}
			if got.Upload.Key != p.Key || got.Upload.Size != int64(len(data)) || got.Upload.ContentType != "video/mp4" || got.Upload.Vars["device"] != "pixel 9" {
				t.Fatalf("record %+v", got.Upload)
			}
			if served := storedObject(t, a, p.Key); !bytes.Equal(served, data) {
				t.Fatal("stored object differs from the upload")
			}
		})
	}
	// The oversize PUT made no record: only the two good uploads are listed.
	lreq, _ := http.NewRequest("GET", a.URL()+"/api/uploads", nil)
	lreq.Header.Set("Authorization", "Bearer "+tok.Token)
	lres, err := http.DefaultClient.Do(lreq)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Uploads []json.RawMessage }
	json.NewDecoder(lres.Body).Decode(&list)
	lres.Body.Close()
	if len(list.Uploads) != 2 {
		t.Fatalf("%d records, want 2", len(list.Uploads))
	}

	// A header changed after presigning breaks the signature.
	var p struct {
		URL     string
		Headers map[string]string
	}
	postJSON(t, a.URL()+"/api/uploads/presign", tok.Token, map[string]any{"filename": "a.png", "size": 3, "contentType": "image/png"}, &p)
	put, _ := http.NewRequest("PUT", p.URL, strings.NewReader("abc"))
	for k, v := range p.Headers {
		put.Header.Set(k, v)
	}
	put.Header.Set("Content-Type", "text/html")
	res, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 403 || !strings.Contains(string(body), "SignatureDoesNotMatch") {
		t.Fatalf("tampered PUT: %d %s", res.StatusCode, body)
	}
}
