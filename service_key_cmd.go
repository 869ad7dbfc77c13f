package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"

	"github.com/ossgate/ossgate/web"
)

func init() {
	commands["service-key"] = command{
		summary: "make a key for the app's backend: ossgate service-key NAME",
		run:     runServiceKey,
	}
}

var serviceKeyName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// runServiceKey prints a new service key (for the app's backend only) and
// the OSSGATE_SERVICE_KEYS entry that accepts it. ossgate keeps only the
// hash, so the key is shown once.
func runServiceKey(_ context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) int {
	if len(args) != 1 || !serviceKeyName.MatchString(args[0]) {
		fmt.Fprintln(stderr, "usage: ossgate service-key NAME   (NAME: 1-64 of A-Z a-z 0-9 . _ -)")
		return 2
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		fmt.Fprintln(stderr, "ossgate: no randomness:", err)
		return 1
	}
	key := web.ServiceKeyPrefix + hex.EncodeToString(b)
	h := web.HashServiceKey(key)
	fmt.Fprintf(stdout, "key (give it to the app's backend; it is not shown again):\n  %s\n", key)
	fmt.Fprintf(stdout, "add to OSSGATE_SERVICE_KEYS (comma-separated):\n  %s:%s\n", args[0], hex.EncodeToString(h[:]))
	return 0
}
