package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Crash safety and durability: a stream of callbacks (one new object each)
// from 16 workers, SIGKILL mid-stream, restart on the same database. Every
// callback answered 200 before the kill is there exactly once, with the id
// it was answered with; no object is there twice; re-delivering every
// callback after the restart answers 200 with the same record, and the
// database ends with exactly one record per object.
func TestCrashSafetyKillMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a binary")
	}
	t.Parallel() // beside TestHostileClientsAgainstBinary's minute of waiting
	const (
		users   = 4
		workers = 16
		objects = 6000
	)
	start := time.Now()
	e := newCrashEnv(t, buildBinary(t))
	cmd, base, logs := e.start(t)
	started := time.Now()
	bearers := make([]string, users)
	for i := range bearers {
		bearers[i] = e.bearer(t, fmt.Sprintf("crash-user-%d", i))
	}

	// Policies first: every object's callback is ready before the stream.
	cbs := make([]ossCallback, objects)
	parallel(workers, objects, func(i int) {
		user := i % users
		var p policyAnswer
		req := fmt.Sprintf(`{"filename":"f%d.txt","size":%d,"contentType":"text/plain"}`, i, 100+i)
		if status, err := e.call("POST", base+"/api/uploads/policy", bearers[user], []byte(req), nil, &p); err != nil || status != 200 {
			t.Errorf("policy %d: %d %v", i, status, err)
			return
		}
		cbs[i] = e.prepareCallback(t, fmt.Sprintf("crash-user-%d", user), p, int64(100+i), "text/plain")
	})
	if t.Failed() {
		t.FailNow()
	}
	prepared := time.Now()

	// The stream, killed part way.
	type outcome struct {
		sent   bool
		status int
		id     string
		err    error
	}
	results := make([]outcome, objects)
	var next, done200 atomic.Int64
	// Killed after a random share (20-60 %) of the callbacks answered 200,
	// not after a time: however fast the machine, the kill lands mid-stream.
	killAfter := int64(objects/5) + rand.Int64N(int64(objects*2/5))
	streamStart := time.Now()
	var killed atomic.Bool
	var killAt time.Duration
	kill := sync.OnceFunc(func() {
		killAt = time.Since(streamStart)
		killed.Store(true)
		cmd.Process.Signal(syscall.SIGKILL)
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= objects {
					return
				}
				status, id, err := e.deliver(base, cbs[i])
				results[i] = outcome{sent: true, status: status, id: id, err: err}
				if err == nil && status == 200 {
					if done200.Add(1) == killAfter {
						kill()
					}
				} else if !killed.Load() {
					t.Errorf("callback %d before the kill: %d %v", i, status, err)
				}
			}
		}()
	}
	wg.Wait()
	streamed := time.Since(streamStart)
	if err := cmd.Wait(); err == nil || !killed.Load() {
		t.Fatalf("the stream ended (%v, %d of %d answered 200) before the kill after %d: raise objects\n%s", streamed, done200.Load(), objects, killAfter, logs.String())
	}
	var ok200, failed, refused, unsent int
	for _, r := range results {
		switch {
		case !r.sent:
			unsent++
		case r.err == nil && r.status == 200:
			ok200++
		case r.err != nil && strings.Contains(r.err.Error(), "connection refused"):
			refused++ // after the kill: never reached the server
		default:
			failed++
		}
	}
	if ok200 == 0 || ok200 == objects {
		t.Fatalf("%d of %d callbacks answered 200 before the kill: nothing to check", ok200, objects)
	}
	t.Logf("killed after %v: %d callbacks answered 200, %d cut off in flight, %d refused after the kill, %d never sent", killAt.Round(time.Millisecond), ok200, failed, refused, unsent)

	// Restart on the same database and check what survived.
	cmd2, base2, logs2 := e.start(t)
	found := map[string][]string{} // object key -> record ids
	total := 0
	for u := range users {
		keys, ids := e.listAll(t, base2, bearers[u])
		total += len(keys)
		for i, k := range keys {
			found[k] = append(found[k], ids[i])
		}
	}
	var present200, presentOther int
	for i, r := range results {
		ids := found[cbs[i].key]
		switch {
		case len(ids) > 1:
			t.Errorf("object %d is recorded %d times: %v", i, len(ids), ids)
		case r.sent && r.err == nil && r.status == 200:
			if len(ids) != 1 || ids[0] != r.id {
				t.Errorf("object %d was answered 200 with record %s before the kill, after the restart it has %v", i, r.id, ids)
			}
			present200++
		case !r.sent && len(ids) != 0:
			t.Errorf("object %d was never sent but has records %v", i, ids)
		case len(ids) == 1:
			presentOther++
		}
	}
	if total != present200+presentOther {
		t.Errorf("%d records listed, but %d objects have one", total, present200+presentOther)
	}
	t.Logf("after the restart: %d records; all %d answered 200 are there once, and %d of the %d cut off in flight were committed", total, present200, presentOther, failed)
	// Each 200 record can be fetched by its owner.
	parallel(workers, objects, func(i int) {
		if r := results[i]; r.sent && r.err == nil && r.status == 200 {
			var rec struct{ ID, Key string }
			status, err := e.call("GET", base2+"/api/uploads/"+r.id, bearers[i%users], nil, nil, &rec)
			if err != nil || status != 200 || rec.Key != cbs[i].key {
				t.Errorf("GET record %s of object %d: %d %v %+v", r.id, i, status, err, rec)
			}
		}
	})

	// OSS retries: every callback again, all 200, the same record as before.
	parallel(workers, objects, func(i int) {
		status, id, err := e.deliver(base2, cbs[i])
		if err != nil || status != 200 {
			t.Errorf("re-delivery of %d: %d %v", i, status, err)
			return
		}
		if ids := found[cbs[i].key]; len(ids) == 1 && ids[0] != id {
			t.Errorf("re-delivery of %d answered record %s, the restart found %s", i, id, ids[0])
		}
	})
	total = 0
	distinct := map[string]bool{}
	for u := range users {
		keys, _ := e.listAll(t, base2, bearers[u])
		total += len(keys)
		for _, k := range keys {
			distinct[k] = true
		}
	}
	if total != objects || len(distinct) != objects {
		t.Errorf("after re-delivery: %d records for %d distinct keys, want %d objects once each", total, len(distinct), objects)
	}
	if t.Failed() {
		t.Logf("first run:\n%s\nafter restart:\n%s", tail(logs.String(), 40), tail(logs2.String(), 40))
	}
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd2.Wait()
	t.Logf("timings: build and start %v, %d policies %v, stream %v, whole test %v", started.Sub(start).Round(time.Millisecond),
		objects, prepared.Sub(started).Round(time.Millisecond), streamed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// parallel runs f(0..n-1) on w goroutines.
func parallel(w, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// Hostile clients against the binary's own http.Server limits (app.go:
// MaxHeaderBytes 32 KiB, ReadHeaderTimeout 5 s, ReadTimeout 60 s), which the
// web package's harness does not have: headers over the limit get 431 and
// never a 5xx; headers or bodies that trickle are cut at the timeouts, the
// connection never hangs for ever; and the server answers others meanwhile.
// The slow bodies wait out the 60 s ReadTimeout, so this runs in parallel
// with the package's other tests.
func TestHostileClientsAgainstBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; waits for the 60 s ReadTimeout")
	}
	t.Parallel()
	e := newCrashEnv(t, buildBinary(t))
	_, base, logs := e.start(t)
	addr := strings.TrimPrefix(base, "http://")
	alice := e.bearer(t, "alice")

	t.Run("headers", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			pad  int
			want int
		}{
			// net/http allows MaxHeaderBytes plus 4096 bytes of bufio slack.
			{"33 KiB of headers fit the slack", 33 << 10, 200},
			{"40 KiB of headers", 40 << 10, 431},
			{"1 MiB of headers", 1 << 20, 431},
		} {
			res, body, err := rawExchange(t, addr, []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", tc.pad)+"\r\n\r\n"), 10*time.Second)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if res.StatusCode != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, body, tc.want)
			}
		}
		// A giant token is refused by the header limit before any JWT work.
		res, _, err := rawExchange(t, addr, []byte("GET /api/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+strings.Repeat("A", 64<<10)+"\r\n\r\n"), 10*time.Second)
		if err != nil || res.StatusCode != 431 {
			t.Errorf("64 KiB Authorization: %v %v, want 431", res, err)
		}
	})

	var wg sync.WaitGroup
	slow := func(name string, raw string, trickle []byte, every, within time.Duration, check func(res *http.Response, body []byte, err error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			begin := time.Now()
			stop := make(chan struct{})
			defer close(stop)
			res, body, err := func() (*http.Response, []byte, error) {
				conn, err := dialRaw(addr)
				if err != nil {
					return nil, nil, err
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(within))
				conn.Write([]byte(raw))
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(every):
							if _, err := conn.Write(trickle); err != nil {
								return
							}
						}
					}
				}()
				return readRaw(conn)
			}()
			took := time.Since(begin)
			t.Logf("%s: answered after %v", name, took.Round(100*time.Millisecond))
			if took >= within {
				t.Errorf("%s: no answer and no hang-up within %v", name, within)
				return
			}
			check(res, body, err)
		}()
	}
	// Headers trickle: hung up at ReadHeaderTimeout (5 s), no answer.
	slow("trickling headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n", []byte("X-A: b\r\n"), 500*time.Millisecond, 15*time.Second,
		func(res *http.Response, body []byte, err error) {
			if err == nil {
				t.Errorf("trickling headers got an answer: %d %s", res.StatusCode, body)
			}
		})
	// Bodies trickle: cut at ReadTimeout (60 s). The handler then answers
	// 400 invalid_request, but WriteTimeout (60 s from the end of the
	// headers) has passed as well, so the client sees the connection closed:
	// no hang and no 5xx either way.
	for _, route := range []struct{ path, auth string }{
		{"/api/uploads/policy", "Authorization: Bearer " + alice + "\r\n"},
		{"/api/uploads/callback", ""},
	} {
		slow("trickling body to "+route.path,
			"POST "+route.path+" HTTP/1.1\r\nHost: x\r\n"+route.auth+"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{",
			[]byte(" "), time.Second, 75*time.Second,
			func(res *http.Response, body []byte, err error) {
				switch {
				case err != nil: // hung up at the timeout
				case res.StatusCode != 400 || !strings.Contains(string(body), `"invalid_request"`):
					t.Errorf("trickling body to %s: %d %s, want 400 invalid_request or a hang-up", route.path, res.StatusCode, body)
				}
			})
	}
	// Meanwhile the server answers others.
	for range 5 {
		time.Sleep(time.Second)
		if status, err := e.call("GET", base+"/healthz", "", nil, nil, nil); err != nil || status != 200 {
			t.Errorf("/healthz while slow clients hold connections: %d %v", status, err)
		}
	}
	wg.Wait()
	if status, err := e.call("GET", base+"/healthz", "", nil, nil, nil); err != nil || status != 200 {
		t.Errorf("/healthz after the slow clients: %d %v", status, err)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", tail(logs.String(), 40))
	}
}
