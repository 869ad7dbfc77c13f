package callback_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossgate/ossgate/callback"
)

// keyServer is a test key host that counts the requests it gets.
type keyServer struct {
	*httptest.Server
	hits atomic.Int64
}

// newKeyServer starts a key server on addr ("127.0.0.1:0" by default); ok is
// false when that address cannot be listened on here.
func newKeyServer(t *testing.T, addr string, h http.Handler) (s *keyServer, ok bool) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, false
	}
	s = &keyServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	s.Listener.Close()
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return s, true
}

// hostPort is the server's "host:port", as an AllowedHosts entry.
func (s *keyServer) hostPort() string { return strings.TrimPrefix(s.URL, "http://") }

func serveBytes(b []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(b) })
}

func newFetcher(t *testing.T, cfg callback.FetcherConfig) *callback.Fetcher {
	t.Helper()
	f, err := callback.NewFetcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFetcherRefusesUntrustedURLs(t *testing.T) {
	key, _ := keys(t)
	pemBytes := publicPEM(t, &key.PublicKey)

	// allowed is the only allowlisted server; the others must never be hit.
	var allowed *keyServer
	mux := http.NewServeMux()
	mux.Handle("/k.pem", serveBytes(pemBytes))
	allowed, _ = newKeyServer(t, "", mux)
	otherPort, _ := newKeyServer(t, "", serveBytes(pemBytes))
	evil := []*keyServer{otherPort}
	otherLoopback, ok := newKeyServer(t, "127.0.0.2:0", serveBytes(pemBytes))
	if ok {
		evil = append(evil, otherLoopback)
	}
	ipv6, ok6 := newKeyServer(t, "[::1]:0", serveBytes(pemBytes))
	if ok6 {
		evil = append(evil, ipv6)
	}
	mux.HandleFunc("/out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherPort.URL+"/k.pem", http.StatusFound)
	})
	mux.HandleFunc("/out-userinfo", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://x@"+allowed.hostPort()+"/k.pem", http.StatusFound)
	})

	ap := allowed.hostPort()
	_, aport, _ := net.SplitHostPort(ap)
	type tc struct {
		name, url   string
		allowedHits int64 // requests the allowlisted server may get (the redirect itself)
	}
	cases := []tc{
		{"another port", otherPort.URL + "/k.pem", 0},
		{"localhost for 127.0.0.1", "http://localhost:" + aport + "/k.pem", 0},
		{"userinfo on allowed host", "http://user@" + ap + "/k.pem", 0},
		{"user:pass on allowed host", "http://user:pw@" + ap + "/k.pem", 0},
		{"allowed host as userinfo", "http://" + ap + "@" + otherPort.hostPort() + "/k.pem", 0},
		{"backslash before @", "http://" + ap + "\\@" + otherPort.hostPort() + "/k.pem", 0},
		{"fragment before @", "http://" + ap + "#@" + otherPort.hostPort() + "/k.pem", 0},
		{"file", "file:///etc/passwd", 0},
		{"ftp", "ftp://" + ap + "/k.pem", 0},
		{"gopher", "gopher://" + ap + "/_GET%20/k.pem", 0},
		{"upper-case scheme", "HTTP://" + ap + "/k.pem", 0},
		{"scheme-relative", "//" + ap + "/k.pem", 0},
		{"no scheme", ap + "/k.pem", 0},
		{"default port", "http://127.0.0.1/k.pem", 0},
		{"percent-encoded host", "http://127.0.0.1%3a" + aport + "/k.pem", 0},
		{"percent-encoded dot", "http://127%2e0.0.1:" + aport + "/k.pem", 0},
		{"leading space", " " + allowed.URL + "/k.pem", 0},
		{"newline", allowed.URL + "/k.pem\n", 0},
		{"empty", "", 0},
		{"ipv6 loopback", "http://[::1]:" + aport + "/k.pem", 0},
		{"ipv6 zone", "http://[fe80::1%25lo]:" + aport + "/k.pem", 0},
		{"redirect to another server", allowed.URL + "/out", 1},
		{"redirect to userinfo URL", allowed.URL + "/out-userinfo", 1},
	}
	if ok {
		cases = append(cases,
			tc{"127.0.0.2", otherLoopback.URL + "/k.pem", 0},
			tc{"allowed.host@127.0.0.2", "http://" + ap + "@" + otherLoopback.hostPort() + "/k.pem", 0},
		)
	} else {
		t.Log("cannot listen on 127.0.0.2: those cases skipped")
	}
	if ok6 {
		cases = append(cases, tc{"ipv6 server", ipv6.URL + "/k.pem", 0})
	} else {
		t.Log("cannot listen on [::1]: that case skipped")
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFetcher(t, callback.FetcherConfig{AllowedHosts: []string{ap}})
			before := allowed.hits.Load()
			key, err := f.PublicKey(t.Context(), c.url)
			if key != nil || !errors.Is(err, callback.ErrUntrustedKeyURL) {
				t.Fatalf("PublicKey(%q) = %v, %v; want ErrUntrustedKeyURL", c.url, key, err)
			}
			if got := callback.Code(err); got != "untrusted_key_url" {
				t.Errorf("Code = %q, want untrusted_key_url", got)
			}
			if got := allowed.hits.Load() - before; got != c.allowedHits {
				t.Errorf("allowlisted server got %d requests, want %d", got, c.allowedHits)
			}
			for _, s := range evil {
				if got := s.hits.Load(); got != 0 {
					t.Errorf("non-allowlisted server %s got %d requests, want 0", s.URL, got)
				}
			}
		})
	}

	t.Run("allowlisted fetch works", func(t *testing.T) {
		f := newFetcher(t, callback.FetcherConfig{AllowedHosts: []string{ap}})
		got, err := f.PublicKey(t.Context(), allowed.URL+"/k.pem")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(&key.PublicKey) {
			t.Fatal("fetched key differs from the served key")
		}
	})
}

func TestFetcherCache(t *testing.T) {
	key, _ := keys(t)
	s, _ := newKeyServer(t, "", serveBytes(publicPEM(t, &key.PublicKey)))
	clock := newClock()
	var mu sync.Mutex
	var events []bool
	f := newFetcher(t, callback.FetcherConfig{
		AllowedHosts: []string{s.hostPort()},
		TTL:          time.Hour,
		Now:          clock.Now,
		OnFetch: func(_ string, cached bool) {
			mu.Lock()
			events = append(events, cached)
			mu.Unlock()
		},
	})
	u := s.URL + "/k.pem"
	steps := []struct {
		name     string
		advance  time.Duration
		wantHits int64
	}{
		{"cold", 0, 1},
		{"cached", 0, 1},
		{"still cached before TTL", 59 * time.Minute, 1},
		{"refetched after TTL", time.Minute, 2},
		{"cached again", 0, 2},
	}
	for _, st := range steps {
		clock.Add(st.advance)
		got, err := f.PublicKey(t.Context(), u)
		if err != nil || !got.Equal(&key.PublicKey) {
			t.Fatalf("%s: PublicKey = %v, %v", st.name, got, err)
		}
		if h := s.hits.Load(); h != st.wantHits {
			t.Errorf("%s: server hits = %d, want %d", st.name, h, st.wantHits)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []bool{false, true, true, false, true}; fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("OnFetch cached = %v, want %v", events, want)
	}
}

func TestFetcherCollapsesConcurrentFetches(t *testing.T) {
	key, _ := keys(t)
	pemBytes := publicPEM(t, &key.PublicKey)
	s, _ := newKeyServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // keep the flight open while the others arrive
		w.Write(pemBytes)
	}))
	var fetches, hits atomic.Int64
	f := newFetcher(t, callback.FetcherConfig{
		AllowedHosts: []string{s.hostPort()},
		OnFetch: func(_ string, cached bool) {
			if cached {
				hits.Add(1)
			} else {
				fetches.Add(1)
			}
		},
	})
	const n = 100
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			got, err := f.PublicKey(context.Background(), s.URL+"/k.pem")
			if err == nil && !got.Equal(&key.PublicKey) {
				err = errors.New("wrong key")
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.hits.Load(); got != 1 {
		t.Errorf("server got %d requests for %d concurrent calls, want 1", got, n)
	}
	if fetches.Load() != 1 || hits.Load() != n-1 {
		t.Errorf("OnFetch: %d fetches, %d cached; want 1, %d", fetches.Load(), hits.Load(), n-1)
	}
}

func TestFetcherFailures(t *testing.T) {
	key, _ := keys(t)
	pemBytes := publicPEM(t, &key.PublicKey)
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/k.pem", serveBytes(pemBytes))
	mux.Handle("/padded.pem", serveBytes(append(append([]byte{}, pemBytes...), strings.Repeat(" ", 16<<10)...)))
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) })
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201); w.Write(pemBytes) })
	mux.Handle("/garbage", serveBytes([]byte("not a key")))
	mux.Handle("/private", serveBytes([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	for i := range 5 {
		mux.HandleFunc(fmt.Sprintf("/hop/%d", i), func(w http.ResponseWriter, r *http.Request) {
			if i == 0 {
				w.Write(pemBytes)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", i-1), http.StatusFound)
		})
	}
	s, _ := newKeyServer(t, "", mux)
	t.Cleanup(func() { close(release) }) // runs before s.Close, which waits for handlers

	cases := []struct {
		name     string
		path     string
		maxBytes int64
		timeout  time.Duration // 0: the 5s default
		want     error         // nil: success
	}{
		{"ok", "/k.pem", 0, 0, nil},
		{"key over MaxKeyBytes", "/k.pem", 64, 0, callback.ErrInvalidSignature},
		{"over the 16 KiB default", "/padded.pem", 0, 0, callback.ErrInvalidSignature},
		{"padded under a larger limit", "/padded.pem", 32 << 10, 0, nil},
		{"404", "/missing", 0, 0, callback.ErrInvalidSignature},
		{"500", "/error", 0, 0, callback.ErrKeyUnavailable},
		{"201 is not 200", "/created", 0, 0, callback.ErrInvalidSignature},
		{"not PEM", "/garbage", 0, 0, callback.ErrInvalidSignature},
		{"private key block", "/private", 0, 0, callback.ErrInvalidSignature},
		{"slow server times out", "/slow", 0, 200 * time.Millisecond, callback.ErrKeyUnavailable},
		{"3 redirects on the allowed host", "/hop/3", 0, 0, nil},
		{"4 redirects", "/hop/4", 0, 0, callback.ErrInvalidSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFetcher(t, callback.FetcherConfig{
				AllowedHosts: []string{s.hostPort()},
				Timeout:      c.timeout,
				MaxKeyBytes:  c.maxBytes,
			})
			start := time.Now()
			got, err := f.PublicKey(t.Context(), s.URL+c.path)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if c.want == nil {
				if err != nil || !got.Equal(&key.PublicKey) {
					t.Fatalf("PublicKey = %v, %v; want the key", got, err)
				}
				return
			}
			if got != nil || !errors.Is(err, c.want) {
				t.Fatalf("PublicKey = %v, %v; want %v", got, err, c.want)
			}
			// Only a failing host is key_unavailable (503); what the URL's
			// author chose is invalid_signature (403).
			wantCode := map[error]string{callback.ErrKeyUnavailable: "key_unavailable", callback.ErrInvalidSignature: "invalid_signature"}[c.want]
			if code := callback.Code(err); code != wantCode {
				t.Errorf("Code = %q, want %s", code, wantCode)
			}
		})
	}
}

func TestFetcherFailureCachedBriefly(t *testing.T) {
	s, _ := newKeyServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	clock := newClock()
	f := newFetcher(t, callback.FetcherConfig{AllowedHosts: []string{s.hostPort()}, Now: clock.Now})
	u := s.URL + "/k.pem"
	steps := []struct {
		advance  time.Duration
		wantHits int64
	}{{0, 1}, {0, 1}, {time.Second, 1}, {5 * time.Second, 2}}
	for i, st := range steps {
		clock.Add(st.advance)
		if _, err := f.PublicKey(t.Context(), u); !errors.Is(err, callback.ErrKeyUnavailable) {
			t.Fatalf("step %d: err = %v, want ErrKeyUnavailable", i, err)
		}
		if got := s.hits.Load(); got != st.wantHits {
			t.Errorf("step %d: hits = %d, want %d", i, got, st.wantHits)
		}
	}
}

// A caller that gives up does not cancel the shared fetch.
func TestFetcherCallerCancelDoesNotAbortFetch(t *testing.T) {
	key, _ := keys(t)
	pemBytes := publicPEM(t, &key.PublicKey)
	s, _ := newKeyServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		w.Write(pemBytes)
	}))
	f := newFetcher(t, callback.FetcherConfig{AllowedHosts: []string{s.hostPort()}})
	u := s.URL + "/k.pem"

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.PublicKey(ctx, u); !errors.Is(err, callback.ErrKeyUnavailable) {
		t.Fatalf("impatient caller: err = %v, want ErrKeyUnavailable", err)
	}
	got, err := f.PublicKey(t.Context(), u)
	if err != nil || !got.Equal(&key.PublicKey) {
		t.Fatalf("patient caller: %v, %v", got, err)
	}
	if h := s.hits.Load(); h != 1 {
		t.Errorf("hits = %d, want 1", h)
	}
}

func TestFetcherKeepsCallersClient(t *testing.T) {
	key, _ := keys(t)
	good, _ := newKeyServer(t, "", serveBytes(publicPEM(t, &key.PublicKey)))
	other, _ := newKeyServer(t, "", serveBytes(publicPEM(t, &key.PublicKey)))
	redirect, _ := newKeyServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/k.pem", http.StatusFound)
	}))
	var calls atomic.Int64
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { calls.Add(1); return nil }}
	f := newFetcher(t, callback.FetcherConfig{
		AllowedHosts: []string{good.hostPort(), redirect.hostPort()},
		Client:       client,
	})
	if _, err := f.PublicKey(t.Context(), redirect.URL+"/k.pem"); !errors.Is(err, callback.ErrUntrustedKeyURL) {
		t.Fatalf("redirect out: err = %v, want ErrUntrustedKeyURL", err)
	}
	if other.hits.Load() != 0 || calls.Load() != 0 {
		t.Errorf("other server hits %d, caller's CheckRedirect calls %d; want 0, 0", other.hits.Load(), calls.Load())
	}
	if _, err := f.PublicKey(t.Context(), good.URL+"/k.pem"); err != nil {
		t.Fatal(err)
	}
	if client.Timeout != 0 {
		t.Error("caller's client was modified")
	}
}

func TestNewFetcherValidatesAllowlist(t *testing.T) {
	good := []string{
		"gosspublic.alicdn.com", "Host.Example:8443", " padded.example ", "127.0.0.1:65535",
		"[::1]", "[::1]:8080", "a.example:0443",
	}
	for _, h := range good {
		t.Run("good "+h, func(t *testing.T) {
			if _, err := callback.NewFetcher(callback.FetcherConfig{AllowedHosts: []string{h}}); err != nil {
				t.Fatalf("NewFetcher(%q) = %v, want ok", h, err)
			}
		})
	}
	bad := []string{
		"", " ", "https://a.example", "a.example/", "a.example/k.pem", "user@a.example", "a.example:0",
		"a.example:65536", "a.example:x", "a.example:", "::1", "[::1", "[127.0.0.1]", "[fe80::1%25eth0]",
		"a.example?x", "a example", "a%2eexample", `a\b`, "a.example#", "a_b.example", "héllo.example",
		"a.example:80:80",
	}
	for _, h := range bad {
		t.Run("bad "+h, func(t *testing.T) {
			if _, err := callback.NewFetcher(callback.FetcherConfig{AllowedHosts: []string{"ok.example", h}}); err == nil {
				t.Fatalf("NewFetcher(%q) = nil error, want one", h)
			}
		})
	}
	for name, cfg := range map[string]callback.FetcherConfig{
		"no hosts":         {},
		"negative timeout": {AllowedHosts: []string{"a.example"}, Timeout: -1},
		"negative max":     {AllowedHosts: []string{"a.example"}, MaxKeyBytes: -1},
		"negative ttl":     {AllowedHosts: []string{"a.example"}, TTL: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := callback.NewFetcher(cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestFetcherAllowed(t *testing.T) {
	f := newFetcher(t, callback.FetcherConfig{AllowedHosts: []string{"a.example", "b.example:8443", "[::1]:9000"}})
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://a.example/k.pem", true},
		{"http://a.example/k.pem", true},
		{"https://A.EXAMPLE/k.pem", true},
		{"https://a.example:443/k.pem", true},
		{"http://a.example:80/k.pem", true},
		{"http://a.example:0080/k.pem", true}, // the dialer reads it as 80
		{"https://a.example", true},
		{"https://a.example/k.pem?v=1", false}, // no query: a key URL has none, and a server may route on it
		{"https://b.example:8443/k.pem", true},
		{"http://b.example:8443/k.pem", true},
		{"http://[::1]:9000/k.pem", true},

		{"https://a.example:8443/k.pem", false},
		{"http://a.example:443/k.pem", false},
		{"https://a.example:80/k.pem", false},
		{"https://b.example/k.pem", false},
		{"https://a.example.evil/k.pem", false},
		{"https://evil.a.example/k.pem", false},
		{"https://xa.example/k.pem", false},
		{"https://a.example./k.pem", false},
		{"http://[::1]/k.pem", false},
		{"http://[::1%25lo]:9000/k.pem", false},
		{"https://a%2eexample/k.pem", false},
		{"https://a.example@evil/k.pem", false},
		{"https://evil@a.example/k.pem", false},
		{"https://@a.example/k.pem", false},
		{`https://a.example\@evil/k.pem`, false},
		{`https://a.example\k.pem`, false},
		{"https://a.example#@evil/k.pem", false},
		{"https://a.example/k.pem#x", false},
		{"https://a.example:/k.pem", false},
		{"https://a.example:99999/k.pem", false},
		{"https://a.example:-1/k.pem", false},
		{"HTTPS://a.example/k.pem", false},
		{"https:a.example/k.pem", false},
		{"https:/a.example/k.pem", false},
		{"https:///a.example/k.pem", false},
		{"//a.example/k.pem", false},
		{"a.example/k.pem", false},
		{"ftp://a.example/k.pem", false},
		{"ws://a.example/k.pem", false},
		{" https://a.example/k.pem", false},
		{"https://a.example/k.pem\n", false},
		{"https://a.example/ k.pem", false},
		{"https://a.example/k.pem\x00", false},
		{"https://a.example\t/k.pem", false},
		{"https://a.example/照片.pem", false},
		{"https://a.example/" + strings.Repeat("a", 4096), false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			err := f.Allowed(c.url)
			if got := err == nil; got != c.ok {
				t.Fatalf("Allowed(%q) = %v, want ok=%v", c.url, err, c.ok)
			}
			if err != nil && !errors.Is(err, callback.ErrUntrustedKeyURL) {
				t.Fatalf("Allowed(%q) = %v, want ErrUntrustedKeyURL", c.url, err)
			}
		})
	}
}
