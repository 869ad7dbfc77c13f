package main

import (
	"context"
	"time"

	"github.com/ossgate/ossgate/ossclient"
)

// startupTimeout bounds the start-up checks; the server does not wait for
// them to serve.
const startupTimeout = 10 * time.Second

// startupFindings are the doctor's clock and bucket CORS findings that are
// not a pass, one message each, for the server to log once at start as
// warnings: they never stop it, and /readyz does not depend on them.
func startupFindings(ctx context.Context, cfg Config, client *ossclient.Client) []string {
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	d := &doctor{cfg: cfg, oss: client, now: time.Now}
	var msgs []string
	for _, f := range append([]finding{d.checkClock(ctx)}, d.checkCORS(ctx)...) {
		if f.Status == pass {
			continue
		}
		msg := f.Check + ": " + oneLine(f.Detail)
		if f.Fix != "" {
			msg += " (fix: " + oneLine(f.Fix) + "; ossgate doctor checks everything)"
		}
		msgs = append(msgs, msg)
	}
	return msgs
}
