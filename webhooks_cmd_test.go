package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossgate/ossgate/store"
)

// ossgate webhooks list and retry, on a database with a given-up event.
func TestWebhooksCommand(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "ossgate.db")
	db, err := store.OpenWithOptions(ctx, dsn, store.Options{Events: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range []string{"up-failed", "up-pending"} {
		if _, _, err := db.Insert(ctx, store.Record{ID: id, User: "alice", Bucket: "b", Key: id, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := db.LeaseEvents(ctx, now.Add(time.Second), time.Minute, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("lease: %d, %v", len(evs), err)
	}
	var failedID string
	for _, ev := range evs {
		res := store.AttemptResult{At: now, Status: 503, Error: "HTTP 503", RetryAt: now.Add(time.Hour)}
		if ev.UploadID == "up-failed" {
			res = store.AttemptResult{At: now, Status: 410, Error: "HTTP 410"}
			failedID = ev.ID
		}
		if err := db.FinishAttempt(ctx, ev, res); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := runWebhooks(ctx, args, envOf(map[string]string{"OSSGATE_DB": dsn}), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout
		notWant  []string
	}{
		{"list all", []string{"list"}, 0, []string{"up-failed", "up-pending", "410", "503", "HTTP 410"}, nil},
		{"list failed", []string{"list", "--failed"}, 0, []string{failedID, "up-failed", "failed"}, []string{"up-pending"}},
		{"list pending", []string{"list", "--pending"}, 0, []string{"up-pending"}, []string{"up-failed"}},
		{"two filters", []string{"list", "--failed", "--pending"}, 2, nil, nil},
		{"no subcommand", nil, 2, nil, nil},
		{"unknown subcommand", []string{"purge"}, 2, nil, nil},
		{"retry nothing", []string{"retry"}, 2, nil, nil},
		{"retry an id and --all", []string{"retry", "--all", failedID}, 2, nil, nil},
		{"retry a missing id", []string{"retry", "evt_nope"}, 1, nil, nil},
		{"retry the failed one", []string{"retry", failedID}, 0, []string{failedID + " is due again"}, nil},
		{"nothing failed any more", []string{"list", "--failed"}, 0, nil, []string{"up-failed"}},
		{"retry --all with none failed", []string{"retry", "--all"}, 0, []string{"0 failed events are due again"}, nil},
	}
	for _, tt := range tests {
		code, out, errOut := run(tt.args...)
		if code != tt.wantCode {
			t.Errorf("%s: exit %d, want %d\n%s%s", tt.name, code, tt.wantCode, out, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.name, w, out)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(out, w) {
				t.Errorf("%s: output has %q:\n%s", tt.name, w, out)
			}
		}
	}
}
