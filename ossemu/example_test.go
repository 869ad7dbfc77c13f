package ossemu_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"
	"os"
	"time"

	"github.com/ossgate/ossgate/ossemu"
)

// Start an emulator on a free port, upload with a V1-signed POST policy, and
// read the object back.
func Example() {
	dir, _ := os.MkdirTemp("", "ossemu-example")
	defer os.RemoveAll(dir)
	emu, err := ossemu.New(ossemu.Config{
		Bucket:      "examplebucket",
		Region:      "cn-hangzhou",
		Credentials: map[string]string{"LTAIexample": "secret"},
		Dir:         dir,
		PublicRead:  true, // so that a plain GET reads the object back
	})
	if err != nil {
		log.Fatal(err)
	}
	l, err := emu.Listen("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go emu.Serve(l)
	defer emu.Close()

	// What ossgate's policy endpoint hands a browser, in short.
	exp := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	policy := base64.StdEncoding.EncodeToString([]byte(
		`{"expiration":"` + exp + `","conditions":[{"bucket":"examplebucket"},["eq","$key","docs/hello.txt"],["content-length-range",1,1024]]}`))
	mac := hmac.New(sha1.New, []byte("secret"))
	mac.Write([]byte(policy))

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("key", "docs/hello.txt")
	mw.WriteField("OSSAccessKeyId", "LTAIexample")
	mw.WriteField("policy", policy)
	mw.WriteField("Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	mw.WriteField("Content-Type", "text/plain")
	fw, _ := mw.CreateFormFile("file", "hello.txt") // the file goes last
	fw.Write([]byte("hello, OSS"))
	mw.Close()

	resp, err := http.Post(emu.PublicURL()+"/", mw.FormDataContentType(), &body)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("upload:", resp.StatusCode, resp.Header.Get("ETag"))

	resp, err = http.Get(emu.PublicURL() + "/docs/hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("get:", resp.StatusCode, resp.Header.Get("Content-Type"), string(data))
	// Output:
	// upload: 204 "13468421FB91A14006E231DC22FFDD69"
	// get: 200 text/plain hello, OSS
}
