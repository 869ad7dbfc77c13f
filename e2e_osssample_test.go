package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// The official OSS sample frontends (plupload's upload.js) post, in this
// order: key = dir + a name, policy, OSSAccessKeyId, success_action_status,
// callback, signature (lower case), then the file. With ?format=oss-sample
// ossgate answers their JSON shape and the emulator accepts their form.
func TestLocalModeOSSSampleFrontend(t *testing.T) {
	a := localApp(t, nil)
	var tok struct{ Token string }
	postJSON(t, a.URL()+"/api/dev/token", "", map[string]string{"sub": "legacy-app"}, &tok)
	cases := []struct {
		name, keyName string // what the frontend appends to dir
		wantName      string
		status        int
	}{
		{"file name", "holiday.jpg", "holiday.jpg", 200},
		{"${filename}", "${filename}", "photo.jpg", 200},
		{"random name", "k3j4h5g6f7.jpg", "k3j4h5g6f7.jpg", 200},
		{"sub directory refused", "a/b.jpg", "", 203},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s struct {
				AccessID, Host, Policy, Signature, Callback, Dir string
				Expire                                           int64
			}
			if st := postJSON(t, a.URL()+"/api/uploads/policy?format=oss-sample", tok.Token, map[string]any{"filename": "photo.jpg", "size": 4096, "contentType": "image/jpeg"}, &s); st != 200 {
				t.Fatalf("policy: %d", st)
			}
			if s.AccessID == "" || s.Dir == "" || s.Expire == 0 || s.Host != a.cfg.UploadURL {
				t.Fatalf("sample answer %+v", s)
			}
			data := make([]byte, 4096)
			rand.Read(data)
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, f := range [][2]string{
				{"key", s.Dir + tc.keyName}, {"policy", s.Policy}, {"OSSAccessKeyId", s.AccessID},
				{"success_action_status", "200"}, {"callback", s.Callback}, {"signature", s.Signature},
			} {
				mw.WriteField(f[0], f[1])
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="photo.jpg"`)
			h.Set("Content-Type", "image/jpeg")
			fw, _ := mw.CreatePart(h)
			fw.Write(data)
			mw.Close()
			res, err := http.Post(s.Host, mw.FormDataContentType(), &buf)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("upload: %d %s, want %d", res.StatusCode, body, tc.status)
			}
			if tc.status != 200 {
				return
			}
			var got struct {
				Upload struct{ Key, ContentType string }
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Upload.Key != s.Dir+tc.wantName || got.Upload.ContentType != "image/jpeg" {
				t.Fatalf("record %+v, want key %s", got.Upload, s.Dir+tc.wantName)
			}
		})
	}
	for _, q := range []string{"?format=xml", "?format=oss-sample&x=1"} {
		body, _ := json.Marshal(map[string]any{"filename": "a.jpg", "size": 1, "contentType": "image/jpeg", "vars": map[string]string{"a": "b"}})
		req, _ := http.NewRequest("POST", a.URL()+"/api/uploads/policy"+q, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(string(b), `"invalid_request"`) {
			t.Errorf("%s: %d %s", q, res.StatusCode, b)
		}
	}
}
