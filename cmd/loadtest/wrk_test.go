package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseWrkOutput(t *testing.T) {
	out := "Running 1s test @ http://127.0.0.1:1\n  1 threads and 2 connections\n" +
		wrkMarker + `{"requests":1200,"duration_us":1000500,"connect":0,"read":1,"write":0,"status":3,"timeout":0,"p50_us":250,"p99_us":900,"max_us":4000}` + "\n"
	s, err := parseWrkOutput([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 1200 || s.DurationUS != 1000500 || s.errors() != 4 || s.P99US != 900 || s.MaxUS != 4000 {
		t.Errorf("parsed %+v", s)
	}
	if _, err := parseWrkOutput([]byte("wrk: unknown option\n")); err == nil {
		t.Error("output without a summary was accepted")
	}
}

func TestLuaString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:    `"plain"`,
		`q"b\`:     `"q\34b\92"`,
		"nl\n\xff": `"nl\10\255"`,
		"":         `""`,
	} {
		if got := luaString(in); got != want {
			t.Errorf("luaString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestWrkRunner drives a real server with the script, when wrk is
// installed: every request in the table is sent, in turn, with its
// headers and body.
func TestWrkRunner(t *testing.T) {
	bin := findWrk()
	if bin == "" {
		t.Skip(errNoWrk)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(body)]++
		mu.Unlock()
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	reqs := []wrkRequest{
		{Method: "POST", Path: "/a", Headers: map[string]string{"Authorization": `Bearer "x"`}, Body: `{"k":"v"}`},
		{Method: "GET", Path: "/bad"},
	}
	w := &wrkRunner{bin: bin, script: map[string]string{}, dir: t.TempDir()}
	s, err := w.run(context.Background(), "t", "http://"+ln.Addr().String(), reqs, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	good, bad := seen[`POST /a Bearer "x" {"k":"v"}`], seen["GET /bad  "]
	if s.Requests == 0 || good == 0 || bad == 0 || uint64(good+bad) < s.Requests || len(seen) != 2 {
		t.Fatalf("wrk sent %d requests; the server saw %v", s.Requests, seen)
	}
	if s.Status != uint64(bad) && s.Status+2 < uint64(bad) { // at most one unanswered per connection at the end
		t.Errorf("status errors %d, 401s sent %d", s.Status, bad)
	}
	if !strings.Contains(w.script["t"], "wrk-t.lua") {
		t.Errorf("script path %q", w.script["t"])
	}
}
