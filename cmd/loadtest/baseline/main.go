// Command baseline is the yardstick for ossgate's policy endpoint in the
// load test (cmd/loadtest): a minimal net/http server that signs an OSS V4
// POST policy the way Alibaba's sample "app servers" do, and nothing else.
//
// Like the samples it has no authentication, no request validation, no
// logging and no metrics. Per request it builds the policy document from
// encoding/json maps, base64-encodes it, derives the V4 signing key with the
// four-step crypto/hmac chain (the samples do not cache it), signs, and
// answers the samples' JSON shape (policy, x_oss_signature_version,
// x_oss_credential, x_oss_date, signature, host, dir, callback). So that
// both servers sign a document of the same size, it binds the conditions
// ossgate binds (bucket, exact key, content-length-range, Content-Type,
// success_action_status, callback, x: vars) with the values of the request,
// and chooses a random key under dir, which it also returns as "key".
//
// It deliberately imports no ossgate package: it must not reuse ossgate's
// code, and ossgate must not depend on it.
//
// Usage (the load test starts it as a child process):
//
//	OSS_ACCESS_KEY_ID=… OSS_ACCESS_KEY_SECRET=… baseline -addr 127.0.0.1:9100 \
//	    -bucket examplebucket -region cn-hangzhou -callback-url http://127.0.0.1:8080/api/uploads/callback
package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PolicyToken is the sample app servers' answer.
type PolicyToken struct {
	Policy           string `json:"policy"`
	SecurityToken    string `json:"security_token"`
	SignatureVersion string `json:"x_oss_signature_version"`
	Credential       string `json:"x_oss_credential"`
	Date             string `json:"x_oss_date"`
	Signature        string `json:"signature"`
	Host             string `json:"host"`
	Dir              string `json:"dir"`
	Key              string `json:"key"`
	Callback         string `json:"callback"`
}

// CallbackParam is the samples' callback parameter.
type CallbackParam struct {
	CallbackURL      string `json:"callbackUrl"`
	CallbackBody     string `json:"callbackBody"`
	CallbackBodyType string `json:"callbackBodyType"`
}

type server struct {
	accessKeyID, accessKeySecret string
	bucket, region, host, dir    string
	callbackURL                  string
	ttl                          time.Duration
}

// uploadRequest is the body ossgate's policy endpoint takes; the baseline
// reads it but checks nothing.
type uploadRequest struct {
	Filename    string            `json:"filename"`
	Size        int64             `json:"size"`
	ContentType string            `json:"contentType"`
	Vars        map[string]string `json:"vars"`
}

func (s *server) policy(w http.ResponseWriter, r *http.Request) {
	var req uploadRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	utc := time.Now().UTC()
	date := utc.Format("20060102")
	xOSSDate := utc.Format("20060102T150405Z")
	credential := fmt.Sprintf("%v/%v/%v/%v/aliyun_v4_request", s.accessKeyID, date, s.region, "oss")

	var rnd [16]byte
	rand.Read(rnd[:])
	key := s.dir + hex.EncodeToString(rnd[:]) + strings.ToLower(path.Ext(req.Filename))

	callbackBody := `{"bucket":${bucket},"object":${object},"etag":${etag},"size":${size},"mimeType":${mimeType},"vars":{`
	i := 0
	for name := range req.Vars {
		if i > 0 {
			callbackBody += ","
		}
		callbackBody += `"` + name + `":${x:` + name + `}`
		i++
	}
	callbackBody += "}}"
	callbackJSON, err := json.Marshal(CallbackParam{CallbackURL: s.callbackURL, CallbackBody: callbackBody, CallbackBodyType: "application/json"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	callback := base64.StdEncoding.EncodeToString(callbackJSON)

	conditions := []any{
		map[string]string{"bucket": s.bucket},
		[]any{"eq", "$key", key},
		[]any{"content-length-range", 1, req.Size},
		[]any{"eq", "$Content-Type", req.ContentType},
		[]any{"eq", "$success_action_status", "200"},
		[]any{"eq", "$callback", callback},
	}
	for name, value := range req.Vars {
		conditions = append(conditions, []any{"eq", "$x:" + name, value})
	}
	conditions = append(conditions,
		map[string]string{"x-oss-signature-version": "OSS4-HMAC-SHA256"},
		map[string]string{"x-oss-credential": credential},
		map[string]string{"x-oss-date": xOSSDate},
	)
	policyMap := map[string]any{
		"expiration": utc.Add(s.ttl).Format("2006-01-02T15:04:05.000Z"),
		"conditions": conditions,
	}
	policy, err := json.Marshal(policyMap)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	stringToSign := base64.StdEncoding.EncodeToString(policy)

	signature := signV4(s.accessKeySecret, date, s.region, stringToSign)

	resp, err := json.Marshal(PolicyToken{
		Policy:           stringToSign,
		SignatureVersion: "OSS4-HMAC-SHA256",
		Credential:       credential,
		Date:             xOSSDate,
		Signature:        signature,
		Host:             s.host,
		Dir:              s.dir,
		Key:              key,
		Callback:         callback,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(resp)
}

// signV4 derives the V4 signing key on every call, as the samples do, and
// signs: hex(HMAC-SHA256(k4, stringToSign)).
func signV4(accessKeySecret, date, region, stringToSign string) string {
	hmacHash := func() hash.Hash { return sha256.New() }
	h1 := hmac.New(hmacHash, []byte("aliyun_v4"+accessKeySecret))
	io.WriteString(h1, date)
	h2 := hmac.New(hmacHash, h1.Sum(nil))
	io.WriteString(h2, region)
	h3 := hmac.New(hmacHash, h2.Sum(nil))
	io.WriteString(h3, "oss")
	h4 := hmac.New(hmacHash, h3.Sum(nil))
	io.WriteString(h4, "aliyun_v4_request")
	h := hmac.New(hmacHash, h4.Sum(nil))
	io.WriteString(h, stringToSign)
	return hex.EncodeToString(h.Sum(nil))
}

// sizedAnswer is a JSON body that makes /floor-sized's answer wire bytes
// long: net/http writes the status line, Content-Length, Content-Type and
// Date before it (Date is always 29 characters).
func sizedAnswer(wire int) []byte {
	head := func(body int) int {
		return len("HTTP/1.1 200 OK\r\nContent-Length: \r\nContent-Type: application/json\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n\r\n") + len(strconv.Itoa(body))
	}
	n := max(wire-head(wire), len(`{"pad":""}`))
	return []byte(`{"pad":"` + strings.Repeat("a", n-len(`{"pad":""}`)) + `"}`)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9100", "listen address")
	bucket := flag.String("bucket", "examplebucket", "bucket name")
	region := flag.String("region", "cn-hangzhou", "region id, without oss-")
	callbackURL := flag.String("callback-url", "http://127.0.0.1:8080/api/uploads/callback", "callbackUrl put in the policy")
	dir := flag.String("dir", "user-dir-prefix/", "object key prefix")
	floorBytes := flag.Int("floor-bytes", 4096, "size on the wire (status line, headers, body) of /floor-sized's answer")
	flag.Parse()

	s := &server{
		accessKeyID:     os.Getenv("OSS_ACCESS_KEY_ID"),
		accessKeySecret: os.Getenv("OSS_ACCESS_KEY_SECRET"),
		bucket:          *bucket,
		region:          strings.TrimPrefix(*region, "oss-"),
		dir:             *dir,
		callbackURL:     *callbackURL,
		ttl:             10 * time.Minute,
	}
	if s.accessKeyID == "" || s.accessKeySecret == "" {
		log.Fatal("baseline: set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET")
	}
	s.host = fmt.Sprintf("https://%s.oss-%s.aliyuncs.com", s.bucket, s.region)

	mux := http.NewServeMux()
	mux.HandleFunc("/api/uploads/policy", s.policy)
	// The floor the load test compares every figure with: net/http reading
	// the request and writing a short answer, nothing else.
	mux.HandleFunc("/floor", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	// The same floor, answering as many bytes as ossgate's policy answer:
	// an answer that does not fit net/http's 4 KB connection buffer goes out
	// in two writes, which on loopback costs more than most handlers.
	sized := sizedAnswer(*floorBytes)
	mux.HandleFunc("/floor-sized", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(sized)))
		w.Write(sized)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
