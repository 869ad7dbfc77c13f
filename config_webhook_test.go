package main

import (
	"strings"
	"testing"
	"time"
)

func TestLoadWebhookConfig(t *testing.T) {
	const a, b = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MjQy"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // the variable named by the one error, "" for none
		check   func(t *testing.T, c Config)
	}{
		{"off by default", nil, "", func(t *testing.T, c Config) {
			if c.Webhooks.URL != "" || storeOptions(c).Events {
				t.Errorf("webhooks on without a URL: %+v", c.Webhooks)
			}
		}},
		{"defaults", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/hooks?t=1", "OSSGATE_WEBHOOK_SECRET": a}, "", func(t *testing.T, c Config) {
			w := c.Webhooks
			if len(w.Secrets) != 1 || w.Timeout != 15*time.Second || w.Concurrency != 64 || w.RetryBase != 5*time.Second || !storeOptions(c).Events {
				t.Errorf("webhooks = %+v", w)
			}
		}},
		{"rotation and settings", map[string]string{"OSSGATE_WEBHOOK_URL": "http://127.0.0.1:9/h", "OSSGATE_WEBHOOK_SECRET": b + ", " + a,
			"OSSGATE_WEBHOOK_TIMEOUT": "3s", "OSSGATE_WEBHOOK_CONCURRENCY": "2", "OSSGATE_WEBHOOK_RETRY_BASE": "50ms"}, "", func(t *testing.T, c Config) {
			w := c.Webhooks
			if len(w.Secrets) != 2 || w.Timeout != 3*time.Second || w.Concurrency != 2 || w.RetryBase != 50*time.Millisecond {
				t.Errorf("webhooks = %+v", w)
			}
			if !strings.Contains(strings.Join(c.Warnings(), "\n"), "OSSGATE_WEBHOOK_RETRY_BASE 50ms is meant for tests") {
				t.Errorf("no warning for a test retry base: %v", c.Warnings())
			}
		}},
		{"secret without URL", map[string]string{"OSSGATE_WEBHOOK_SECRET": a}, "OSSGATE_WEBHOOK_URL", nil},
		{"URL without secret", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/h"}, "OSSGATE_WEBHOOK_SECRET", nil},
		{"bad secret", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/h", "OSSGATE_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "OSSGATE_WEBHOOK_SECRET", nil},
		{"three secrets", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/h", "OSSGATE_WEBHOOK_SECRET": a + "," + b + "," + a}, "OSSGATE_WEBHOOK_SECRET", nil},
		{"not a URL", map[string]string{"OSSGATE_WEBHOOK_URL": "app.example.com/h", "OSSGATE_WEBHOOK_SECRET": a}, "OSSGATE_WEBHOOK_URL", nil},
		{"user info", map[string]string{"OSSGATE_WEBHOOK_URL": "https://u:pw@app.example.com/h", "OSSGATE_WEBHOOK_SECRET": a}, "OSSGATE_WEBHOOK_URL", nil},
		{"timeout", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/h", "OSSGATE_WEBHOOK_SECRET": a, "OSSGATE_WEBHOOK_TIMEOUT": "2m"}, "OSSGATE_WEBHOOK_TIMEOUT", nil},
		{"concurrency", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/h", "OSSGATE_WEBHOOK_SECRET": a, "OSSGATE_WEBHOOK_CONCURRENCY": "0"}, "OSSGATE_WEBHOOK_CONCURRENCY", nil},
		{"concurrency above the worker's bound", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/h", "OSSGATE_WEBHOOK_SECRET": a, "OSSGATE_WEBHOOK_CONCURRENCY": "257"}, "OSSGATE_WEBHOOK_CONCURRENCY", nil},
		{"retry base", map[string]string{"OSSGATE_WEBHOOK_URL": "https://app.example.com/h", "OSSGATE_WEBHOOK_SECRET": a, "OSSGATE_WEBHOOK_RETRY_BASE": "1ms"}, "OSSGATE_WEBHOOK_RETRY_BASE", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, errs := loadConfig(envOf(tt.env)) // local mode: everything else has a default
			switch {
			case tt.wantErr == "" && len(errs) > 0:
				t.Fatalf("errors: %v", errs)
			case tt.wantErr != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tt.wantErr+": ")):
				t.Fatalf("errors = %v, want one about %s", errs, tt.wantErr)
			}
			for _, err := range errs {
				for _, s := range []string{"MfKQ9r8", "QUJDREVG", "c2hvcnQ", ":pw@"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q quotes a secret", err)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
