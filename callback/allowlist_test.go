package callback_test

import (
	"crypto/rsa"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ossgate/ossgate/callback"
)

func TestFetcherAllowedKeyURLs(t *testing.T) {
	f := newFetcher(t, callback.FetcherConfig{AllowedKeyURLs: []string{
		"https://gosspublic.alicdn.com/",
		"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem",
		"https://keys.example/oss/",
	}})
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://gosspublic.alicdn.com/callback_pub_key_v1.pem", true},
		{"https://GOSSPUBLIC.alicdn.com/callback_pub_key_v1.pem", true},
		{"https://gosspublic.alicdn.com:443/callback_pub_key_v1.pem", true},
		{"https://gosspublic.alicdn.com", true}, // no path is "/"
		{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem", true},
		{"http://127.0.0.1:09000/_ossemu/callback_pub_key.pem", true}, // the dialer reads it as 9000
		{"https://keys.example/oss/k.pem", true},
		{"https://keys.example/oss/v1/k.pem", true},
		{"https://keys.example/oss/a..b.pem", true}, // ".." inside a name is no segment

		// The exact entry allows that URL only.
		{"http://127.0.0.1:9000/uploads/mallory/key.pem", false},
		{"http://127.0.0.1:9000/_ossemu/", false},
		{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem/", false},
		{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pemx", false},
		{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem?x=1", false},
		{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem?", false},
		{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem#x", false},
		{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem/../../uploads/mallory/key.pem", false},
		{"http://127.0.0.1:9001/_ossemu/callback_pub_key.pem", false},
		{"https://127.0.0.1:9000/_ossemu/callback_pub_key.pem", false},
		{"http://localhost:9000/_ossemu/callback_pub_key.pem", false},
		{"http://127.0.0.1:9000/_OSSEMU/callback_pub_key.pem", false},
		// Scheme, host and port of a prefix are exact too.
		{"http://gosspublic.alicdn.com/callback_pub_key_v1.pem", false},
		{"https://gosspublic.alicdn.com:8443/callback_pub_key_v1.pem", false},
		{"https://gosspublic.alicdn.com.evil.example/k.pem", false},
		{"https://evil.example/oss/k.pem", false},
		// Nothing may climb out of, or around, a prefix.
		{"https://keys.example/oss", false},
		{"https://keys.example/ossx/k.pem", false},
		{"https://keys.example/OSS/k.pem", false},
		{"https://keys.example/oss/../uploads/k.pem", false},
		{"https://keys.example/oss/..", false},
		{"https://keys.example/oss/.", false},
		{"https://keys.example/oss/./k.pem", false},
		{"https://keys.example/oss/%2e%2e/uploads/k.pem", false},
		{"https://keys.example/oss/%2E%2E/uploads/k.pem", false},
		{"https://keys.example/oss/.%2e/uploads/k.pem", false},
		{"https://keys.example/oss/..%2fuploads%2fk.pem", false},
		{"https://keys.example/oss/..%2Fuploads/k.pem", false},
		{"https://keys.example/oss/%252e%252e/k.pem", false},
		{"https://keys.example/oss%2fk.pem", false},
		{"https://keys.example/oss/%6b.pem", false}, // even a harmless escape: no two spellings of one path
		{"https://keys.example/oss//k.pem", false},
		{"https://keys.example//oss/k.pem", false},
		{"https://keys.example/oss/k.pem/", true}, // still under the prefix, on its own path
		{`https://keys.example/oss\..\uploads\k.pem`, false},
		{`https://keys.example/oss/..\k.pem`, false},
		{"https://keys.example/oss/..;/uploads/k.pem", false}, // Tomcat-style path parameters
		{"https://keys.example/oss/k.pem;jsessionid=1", false},
		{"https://keys.example/oss/k.pem?/../../uploads/k.pem", false},
		{"https://keys.example/oss/k.pem#/../../uploads/k.pem", false},
		{"https://keys.example/oss/k.pem?x=1", false},
		{"https://keys.example/oss/k%00.pem", false},
		{"https://keys.example/oss/k.pem%20", false},
		{"https://keys.example/oss/~user/k.pem", true},
		{"https://keys.example/oss/k@x.pem", false},
		{"https://keys.example/oss/k:x.pem", false},
		{"https://keys.example/oss/k+x.pem", false},
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

func TestFetcherConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		cfg    callback.FetcherConfig
		fields []string // nil: valid
	}{
		{"exact URL", callback.FetcherConfig{AllowedKeyURLs: []string{"http://127.0.0.1:9000/_ossemu/callback_pub_key.pem"}}, nil},
		{"prefix", callback.FetcherConfig{AllowedKeyURLs: []string{"https://gosspublic.alicdn.com/"}}, nil},
		{"whole host", callback.FetcherConfig{AllowedKeyURLs: []string{"https://keys.example"}}, nil},
		{"padded, IPv6", callback.FetcherConfig{AllowedKeyURLs: []string{" http://[::1]:9000/k.pem "}}, nil},
		{"legacy hosts only", callback.FetcherConfig{AllowedHosts: []string{"gosspublic.alicdn.com"}}, nil},
		{"both lists", callback.FetcherConfig{AllowedKeyURLs: []string{"https://a.example/k/"}, AllowedHosts: []string{"b.example"}}, nil},

		{"nothing allowed", callback.FetcherConfig{}, []string{"AllowedKeyURLs"}},
		{"bare host", callback.FetcherConfig{AllowedKeyURLs: []string{"gosspublic.alicdn.com"}}, []string{"AllowedKeyURLs"}},
		{"bare host:port", callback.FetcherConfig{AllowedKeyURLs: []string{"127.0.0.1:9000"}}, []string{"AllowedKeyURLs"}},
		{"empty entry", callback.FetcherConfig{AllowedKeyURLs: []string{" "}}, []string{"AllowedKeyURLs"}},
		{"ftp", callback.FetcherConfig{AllowedKeyURLs: []string{"ftp://a.example/"}}, []string{"AllowedKeyURLs"}},
		{"upper-case scheme", callback.FetcherConfig{AllowedKeyURLs: []string{"HTTPS://a.example/"}}, []string{"AllowedKeyURLs"}},
		{"query", callback.FetcherConfig{AllowedKeyURLs: []string{"https://a.example/k.pem?v=1"}}, []string{"AllowedKeyURLs"}},
		{"fragment", callback.FetcherConfig{AllowedKeyURLs: []string{"https://a.example/#"}}, []string{"AllowedKeyURLs"}},
		{"userinfo", callback.FetcherConfig{AllowedKeyURLs: []string{"https://u@a.example/"}}, []string{"AllowedKeyURLs"}},
		{"escape", callback.FetcherConfig{AllowedKeyURLs: []string{"https://a.example/%2e%2e/"}}, []string{"AllowedKeyURLs"}},
		{"dot dot", callback.FetcherConfig{AllowedKeyURLs: []string{"https://a.example/a/../"}}, []string{"AllowedKeyURLs"}},
		{"double slash", callback.FetcherConfig{AllowedKeyURLs: []string{"https://a.example//"}}, []string{"AllowedKeyURLs"}},
		{"port 0", callback.FetcherConfig{AllowedKeyURLs: []string{"https://a.example:0/"}}, []string{"AllowedKeyURLs"}},
		{"bad legacy host", callback.FetcherConfig{AllowedHosts: []string{"https://a.example"}}, []string{"AllowedHosts"}},
		{"every problem", callback.FetcherConfig{
			AllowedKeyURLs: []string{"a.example", "https://ok.example/"}, AllowedHosts: []string{"a/b"},
			Timeout: -1, MaxKeyBytes: -1, TTL: -1,
		}, []string{"AllowedKeyURLs", "AllowedHosts", "Timeout", "MaxKeyBytes", "TTL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			var fields []string
			for _, fe := range callback.FieldErrors(err) {
				fields = append(fields, fe.Field)
			}
			if !reflect.DeepEqual(fields, c.fields) {
				t.Fatalf("Validate = %v: fields %v, want %v", err, fields, c.fields)
			}
			_, nerr := callback.NewFetcher(c.cfg)
			if (nerr == nil) != (c.fields == nil) || (nerr != nil && nerr.Error() != err.Error()) {
				t.Fatalf("NewFetcher = %v, want Validate's error %v", nerr, err)
			}
			if err != nil && strings.Count(err.Error(), "\n")+1 != len(c.fields) {
				t.Errorf("want one line per problem:\n%v", err)
			}
		})
	}
}

// In local mode the emulator serves both its callback key and every
// uploaded object. An uploader who stores a PEM and names it in a forged
// callback's x-oss-pub-key-url must get nothing fetched: the allowlist names
// the key's exact URL. The deprecated host allowlist lets it through, which
// is why it is deprecated.
func TestFetcherRefusesUploadedKeyOnEmulatorHost(t *testing.T) {
	key, mallory := keys(t)
	var mu sync.Mutex
	hits := map[string]int{}
	mux := http.NewServeMux()
	mux.Handle("/_ossemu/callback_pub_key.pem", serveBytes(publicPEM(t, &key.PublicKey)))
	mux.Handle("/uploads/mallory/key.pem", serveBytes(publicPEM(t, &mallory.PublicKey)))
	mux.HandleFunc("/_ossemu/moved.pem", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/uploads/mallory/key.pem", http.StatusFound)
	})
	emu, _ := newKeyServer(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	keyURL := emu.URL + "/_ossemu/callback_pub_key.pem"
	uploaded := emu.URL + "/uploads/mallory/key.pem"

	cases := []struct {
		name    string
		cfg     callback.FetcherConfig
		url     string
		want    error // nil: the key at url is fetched
		wantKey bool  // the emulator's own key, not mallory's
	}{
		{"exact URL: the emulator's key", callback.FetcherConfig{AllowedKeyURLs: []string{keyURL}}, keyURL, nil, true},
		{"exact URL: an uploaded key", callback.FetcherConfig{AllowedKeyURLs: []string{keyURL}}, uploaded, callback.ErrUntrustedKeyURL, false},
		{"exact URL: a traversal to it", callback.FetcherConfig{AllowedKeyURLs: []string{keyURL}}, keyURL + "/../../uploads/mallory/key.pem", callback.ErrUntrustedKeyURL, false},
		{"prefix: a redirect out of it", callback.FetcherConfig{AllowedKeyURLs: []string{emu.URL + "/_ossemu/"}}, emu.URL + "/_ossemu/moved.pem", callback.ErrUntrustedKeyURL, false},
		{"deprecated host entry: the uploaded key is fetched", callback.FetcherConfig{AllowedHosts: []string{emu.hostPort()}}, uploaded, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			clear(hits)
			mu.Unlock()
			got, err := newFetcher(t, c.cfg).PublicKey(t.Context(), c.url)
			mu.Lock()
			uploadedHits := hits["/uploads/mallory/key.pem"]
			mu.Unlock()
			if c.want != nil {
				if got != nil || !errors.Is(err, c.want) {
					t.Fatalf("PublicKey = %v, %v; want %v", got, err, c.want)
				}
				if uploadedHits != 0 {
					t.Errorf("the uploaded key was requested %d times", uploadedHits)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]*rsa.PublicKey{true: &key.PublicKey, false: &mallory.PublicKey}[c.wantKey]; !got.Equal(want) {
				t.Errorf("fetched the wrong key")
			}
		})
	}
}
