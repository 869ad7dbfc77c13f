package main

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ossgate/ossgate/webhook"
)

// WebhookConfig is where and how upload events are pushed (README
// "Webhooks"). With no URL there are no webhooks, and no events are written.
type WebhookConfig struct {
	URL         string
	Secrets     []webhook.Secret // 1, or 2 while rotating; each delivery is signed with all
	Timeout     time.Duration    // one attempt
	Concurrency int              // attempts at once, per instance
	RetryBase   time.Duration    // first wait of the retry schedule; the shape is fixed
}

// loadWebhookConfig reads the OSSGATE_WEBHOOK_* variables into c.Webhooks.
func loadWebhookConfig(c *Config, env func(name, def string) string, bad func(name, format string, args ...any)) {
	w := &c.Webhooks
	w.URL = env("OSSGATE_WEBHOOK_URL", "")
	secret := env("OSSGATE_WEBHOOK_SECRET", "")
	switch {
	case w.URL == "" && secret != "":
		bad("OSSGATE_WEBHOOK_URL", "must be set when OSSGATE_WEBHOOK_SECRET is (the URL events are posted to)")
		return
	case w.URL == "":
		return
	case secret == "":
		bad("OSSGATE_WEBHOOK_SECRET", "required with OSSGATE_WEBHOOK_URL: whsec_ and the base64 of 24 to 64 random bytes (two, comma-separated, while rotating)")
	default:
		s, err := webhook.ParseSecrets(secret)
		if err != nil {
			bad("OSSGATE_WEBHOOK_SECRET", "%v", err) // the errors never quote the secret
		}
		w.Secrets = s
	}
	u, err := url.Parse(w.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		bad("OSSGATE_WEBHOOK_URL", "%q is not an http(s) URL like https://app.example.com/hooks/ossgate", redactURL(w.URL))
	case u.User != nil:
		bad("OSSGATE_WEBHOOK_URL", "%q must not hold a user name or password (the signature authenticates deliveries)", redactURL(w.URL))
	case u.Fragment != "":
		bad("OSSGATE_WEBHOOK_URL", "%q must not hold a #fragment", w.URL)
	case u.Scheme == "http" && !c.Local && !isLoopbackHost(hostOnly(u.Host)):
		c.warnings = append(c.warnings, "OSSGATE_WEBHOOK_URL is plain http: deliveries are signed, but anyone on the path can read them")
	}

	w.Timeout = 15 * time.Second
	if s := env("OSSGATE_WEBHOOK_TIMEOUT", ""); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second || d > time.Minute {
			bad("OSSGATE_WEBHOOK_TIMEOUT", "must be a duration from 1s to 1m, got %q", s)
		} else {
			w.Timeout = d
		}
	}
	w.Concurrency = 64 // throughput is senders ÷ the receiver's latency (docs/PERFORMANCE.md, round 4)
	if s := env("OSSGATE_WEBHOOK_CONCURRENCY", ""); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 256 {
			bad("OSSGATE_WEBHOOK_CONCURRENCY", "must be a whole number from 1 to 256, got %q", s)
		} else {
			w.Concurrency = n
		}
	}
	w.RetryBase = webhook.DefaultBase
	if s := env("OSSGATE_WEBHOOK_RETRY_BASE", ""); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil || d < 10*time.Millisecond || d > 5*time.Minute:
			bad("OSSGATE_WEBHOOK_RETRY_BASE", "must be a duration from 10ms to 5m, got %q", s)
		default:
			w.RetryBase = d
			if d < time.Second {
				c.warnings = append(c.warnings, "OSSGATE_WEBHOOK_RETRY_BASE "+s+" is meant for tests: a failing event is then retried about every "+
					webhook.ScaledBackoff(d).Steps[len(webhook.ScaledBackoff(d).Steps)-1].Round(time.Second).String()+" for 24 hours")
			}
		}
	}
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
