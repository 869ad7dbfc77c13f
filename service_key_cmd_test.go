package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ossgate/ossgate/web"
)

// TestServiceKeyCommand: the printed entry, given to OSSGATE_SERVICE_KEYS,
// accepts the printed key and nothing else.
func TestServiceKeyCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runServiceKey(context.Background(), []string{"app-backend"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Fields(out.String())
	var key, entry string
	for _, f := range lines {
		switch {
		case strings.HasPrefix(f, "osk_"):
			key = f
		case strings.HasPrefix(f, "app-backend:"):
			entry = f
		}
	}
	if len(key) != 4+64 || entry == "" || strings.Contains(entry, key) {
		t.Fatalf("output %q", out.String())
	}
	env := productionEnv()
	env["OSSGATE_SERVICE_KEYS"] = entry + ",other:" + strings.Repeat("ab", 32)
	c, errs := loadConfig(envOf(env))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	auth, ok := c.ServiceKeys["app-backend"]
	if !ok || len(c.ServiceKeys) != 2 {
		t.Fatalf("service keys %v", c.ServiceKeys)
	}
	if sum := webHash(key); sum != auth {
		t.Error("the configured hash does not accept the printed key")
	}
	for _, bad := range [][]string{nil, {"a b"}, {"x", "y"}, {strings.Repeat("n", 65)}} {
		if code := runServiceKey(context.Background(), bad, nil, &out, &errOut); code != 2 {
			t.Errorf("service-key %q: exit %d, want 2", bad, code)
		}
	}
	for _, v := range []string{"nohash", "a:xyz", ":" + strings.Repeat("ab", 32), "a:" + strings.Repeat("ab", 31)} {
		env["OSSGATE_SERVICE_KEYS"] = v
		if _, errs := loadConfig(envOf(env)); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "OSSGATE_SERVICE_KEYS: ") {
			t.Errorf("OSSGATE_SERVICE_KEYS=%q: %v", v, errs)
		}
	}
}

func webHash(key string) [32]byte { return web.HashServiceKey(key) }
