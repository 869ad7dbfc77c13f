package callback

import (
	"fmt"
	"testing"
	"time"
)

// The cache stays bounded however many URLs callers name, and drops expired
// entries before live ones.
func TestFetcherCacheBounded(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	f, err := NewFetcher(FetcherConfig{AllowedHosts: []string{"a.example"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	live := cacheEntry{err: ErrKeyUnavailable, expires: now.Add(time.Hour)}
	dead := cacheEntry{err: ErrKeyUnavailable, expires: now}
	f.store("https://a.example/live", live)
	for i := range maxCacheEntries - 1 {
		f.store(fmt.Sprintf("https://a.example/dead/%d", i), dead)
	}
	f.store("https://a.example/new", live)
	if got := len(f.cache); got != 2 {
		t.Fatalf("after sweeping expired entries: %d entries, want 2", got)
	}
	for i := range 4 * maxCacheEntries {
		f.store(fmt.Sprintf("https://a.example/k/%d", i), live)
		if got := len(f.cache); got > maxCacheEntries {
			t.Fatalf("cache holds %d entries, limit %d", got, maxCacheEntries)
		}
	}
}
