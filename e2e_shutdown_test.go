package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles ossgate once for tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ossgate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs the binary in local mode on loopback port 0 and returns
// its base URL once it says where it listens.
func startProcess(t *testing.T, bin string, env ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"OSSGATE_ADDR=127.0.0.1:0", "OSSGATE_LOCAL_OSS_ADDR=127.0.0.1:0",
		"OSSGATE_DB="+filepath.Join(dir, "ossgate.db"), "OSSGATE_LOCAL_OSS_DIR="+filepath.Join(dir, "oss"))
	cmd.Env = append(cmd.Env, env...)
	// exec copies stderr into logs itself, and Wait returns only after the
	// copy has finished: reading a StderrPipe in a goroutine instead races
	// with Wait, which closes the pipe and can drop the last lines.
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	re := regexp.MustCompile(`ossgate listening on (127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return cmd, "http://" + m[1], logs
		}
	}
	t.Fatalf("ossgate did not say where it listens:\n%s", logs.String())
	return nil, "", nil
}

// SIGTERM while requests are in flight: they finish with 200, new
// connections are refused, and the process exits 0.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	cmd, url, logs := startProcess(t, buildBinary(t))
	var tok struct{ Token string }
	postJSON(t, url+"/api/dev/token", "", map[string]string{"sub": "alice"}, &tok)

	// Slow requests: each body trickles in; SIGTERM arrives half way.
	const slow = 3
	type result struct {
		status int
		err    error
	}
	results := make(chan result, slow)
	writers := make([]*io.PipeWriter, slow)
	body := []byte(`{"filename":"a.txt","size":5,"contentType":"text/plain"}`)
	for i := range writers {
		pr, pw := io.Pipe()
		writers[i] = pw
		req, _ := http.NewRequest("POST", url+"/api/uploads/policy", pr)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = int64(len(body))
		go func() {
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer res.Body.Close()
			var p map[string]any
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil || p["key"] == nil {
				results <- result{status: res.StatusCode, err: err}
				return
			}
			results <- result{status: res.StatusCode}
		}()
		pw.Write(body[:10])
	}
	time.Sleep(200 * time.Millisecond) // let the server read the first bytes
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	for _, pw := range writers {
		pw.Write(body[10:])
		pw.Close()
	}
	for i := 0; i < slow; i++ {
		r := <-results
		if r.err != nil || r.status != 200 {
			t.Errorf("in-flight request: status %d err %v", r.status, r.err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatalf("process did not exit after SIGTERM:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "stopped cleanly") {
		t.Errorf("no clean-stop log line:\n%s", logs.String())
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("server still answers after exit")
	}
}
