package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ossgate/ossgate/store"
	"github.com/ossgate/ossgate/web"
	"github.com/ossgate/ossgate/webhook"
)

// storeOptions are the choices store.OpenWithOptions needs from c: events
// are written only when there is a webhook URL to deliver them to.
func storeOptions(c Config) store.Options {
	return store.Options{Events: c.Webhooks.URL != ""}
}

// webhooks is a started app's delivery worker; nil without OSSGATE_WEBHOOK_URL.
type webhooks struct {
	w   *webhook.Worker
	log *slog.Logger
}

// newWebhooks makes the worker of c and adds its series to m's /metrics.
func newWebhooks(c Config, db store.Store, m *web.Metrics, log *slog.Logger) (*webhooks, error) {
	if c.Webhooks.URL == "" {
		return nil, nil
	}
	wm := webhook.NewMetrics()
	if err := m.Register(wm.Collectors()...); err != nil {
		return nil, fmt.Errorf("webhook metrics: %w", err)
	}
	log = log.With("component", "webhooks")
	w, err := webhook.New(webhook.Config{
		URL:         c.Webhooks.URL,
		Secrets:     c.Webhooks.Secrets,
		Queue:       db,
		Timeout:     c.Webhooks.Timeout,
		Concurrency: c.Webhooks.Concurrency,
		Backoff:     webhook.ScaledBackoff(c.Webhooks.RetryBase),
		Logger:      log,
		Metrics:     wm,
	})
	if err != nil {
		return nil, fmt.Errorf("OSSGATE_WEBHOOK_URL: %w", err)
	}
	return &webhooks{w: w, log: log}, nil
}

// run delivers events until ctx is done or the returned stop is called;
// stop waits until the attempts still running are recorded, so call it
// before the database closes. A nil *webhooks runs nothing.
func (h *webhooks) run(ctx context.Context) (stop func()) {
	if h == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.w.Run(ctx); err != nil {
			h.log.Error("webhook worker stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
