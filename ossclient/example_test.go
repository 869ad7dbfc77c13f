package ossclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/ossgate/ossgate/ossclient"
	"github.com/ossgate/ossgate/ossemu"
)

// A multipart upload whose part a browser sends itself, to a presigned URL,
// then a download link; against the local emulator.
func Example() {
	dir, _ := os.MkdirTemp("", "ossclient-example")
	defer os.RemoveAll(dir)
	emu, err := ossemu.New(ossemu.Config{
		Bucket:      "examplebucket",
		Region:      "cn-hangzhou",
		Credentials: map[string]string{"LTAIexample": "secret"},
		Dir:         dir,
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

	c, err := ossclient.New(ossclient.Config{
		AccessKeyID:     "LTAIexample",
		AccessKeySecret: "secret",
		Region:          "cn-hangzhou",
		Bucket:          "examplebucket",
		Endpoint:        emu.PublicURL(), // e.g. http://127.0.0.1:9000
		UsePathStyle:    true,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	const key = "uploads/alice/notes.txt"

	id, err := c.InitiateMultipart(ctx, key, ossclient.InitiateOptions{ContentType: "text/plain", ForbidOverwrite: true})
	if err != nil {
		log.Fatal(err)
	}
	// What the browser gets, and does.
	part, err := c.PresignUploadPart(ctx, key, id, 1, 10*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	req, _ := http.NewRequest(part.Method, part.URL, bytes.NewReader([]byte("hello, multipart")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("part:", resp.StatusCode)

	// Back on the server: complete with the parts OSS holds.
	parts, err := c.ListParts(ctx, key, id)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CompleteMultipart(ctx, key, id, parts, ossclient.CompleteOptions{ForbidOverwrite: true}); err != nil {
		log.Fatal(err)
	}
	info, err := c.HeadObject(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("object:", info.Size, info.ContentType, info.ObjectType)

	get, err := c.PresignGet(ctx, key, ossclient.GetOptions{ContentDisposition: ossclient.Attachment("notes.txt")})
	if err != nil {
		log.Fatal(err)
	}
	resp, err = http.Get(get.URL)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("download:", resp.Header.Get("Content-Disposition"), string(body))

	// Failures are matched by kind, never by message.
	_, err = c.HeadObject(ctx, "uploads/alice/missing.txt")
	var e *ossclient.Error
	if errors.As(err, &e) {
		fmt.Println("missing:", errors.Is(err, ossclient.ErrNotFound), e.StatusCode, e.Code)
	}
	// Output:
	// part: 200
	// object: 16 text/plain Multipart
	// download: attachment; filename="notes.txt" hello, multipart
	// missing: true 404 NoSuchKey
}
