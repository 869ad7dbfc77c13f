package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The published sample app server, github.com/alphasnow/aliyun-oss-appserver-go
// (a port of Alibaba's official Go app server), is a library. With
// -sample-dir pointing at a copy of it, the tool builds the server its
// README shows, GET /token answering Generate()'s JSON (V1 policy and
// callback, no auth), in a module of its own in the temporary directory
// that replaces the library with that copy. Nothing of it enters this
// repository.
const sampleModule = "github.com/alphasnow/aliyun-oss-appserver-go"

const sampleMain = `package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"

	appserver "` + sampleModule + `"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9200", "listen address")
	host := flag.String("host", "https://bucket-name.oss-cn-hangzhou.aliyuncs.com", "upload host")
	callbackURL := flag.String("callback-url", "http://127.0.0.1:8080/oss/callback", "callback URL")
	flag.Parse()
	token := appserver.NewToken(&appserver.Config{
		AccessKeyId:     os.Getenv("OSS_ACCESS_KEY_ID"),
		AccessKeySecret: os.Getenv("OSS_ACCESS_KEY_SECRET"),
		Host:            *host,
		Directory:       "user-dir-prefix/",
		ExpireSecond:    600,
		CallbackUrl:     *callbackURL,
	})
	http.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		postToken, err := token.Generate()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		postTokenJson, _ := json.Marshal(postToken)
		w.Header().Set("Content-Type", "application/json")
		w.Write(postTokenJson)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
`

// buildSample builds the sample server from the library at dir into bin.
func buildSample(ctx context.Context, dir, tmp, bin string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(abs, "token.go")); err != nil {
		return fmt.Errorf("-sample-dir %s does not hold %s (token.go): %w", dir, sampleModule, err)
	}
	mod := filepath.Join(tmp, "sampleserver")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return err
	}
	gomod := "module sampleserver\n\ngo 1.21\n\nrequire " + sampleModule + " v0.0.0\n\nreplace " + sampleModule + " => " + abs + "\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte(sampleMain), 0o644); err != nil {
		return err
	}
	bctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, "go", "build", "-mod=mod", "-o", bin, ".")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the sample server: %v\n%s", err, out)
	}
	return nil
}
