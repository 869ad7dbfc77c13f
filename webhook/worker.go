package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ossgate/ossgate/store"
)

// Queue is the part of the store's outbox the worker uses (store.Outbox).
type Queue interface {
	LeaseEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Event, error)
	FinishAttempt(ctx context.Context, ev store.Event, res store.AttemptResult) error
	PendingEvents(ctx context.Context) (int, error)
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Config is what a Worker delivers, where to, and how.
type Config struct {
	// URL receives every event: an http or https URL without user info.
	URL string
	// Secrets sign every delivery, each one (1 or 2: see MaxSecrets).
	Secrets []Secret
	// Queue is where the events come from.
	Queue Queue
	// Timeout bounds one attempt, from connecting to reading the answer.
	// If zero, 15 s.
	Timeout time.Duration
	// Concurrency is how many attempts run at once. If zero, 8.
	Concurrency int
	// PollInterval is how often the queue is asked for due events while
	// there are none. If zero, 1 s.
	PollInterval time.Duration
	// Backoff is the retry schedule. If it has no Steps, DefaultBackoff().
	Backoff Backoff
	// KeepDelivered is how long delivered events stay in the outbox (for
	// ossgate webhooks list) before they are pruned. If zero, 7 days.
	KeepDelivered time.Duration
	// Transport sends the requests. If nil, a transport of the worker's
	// own with bounded dial, TLS and header times and sizes.
	Transport http.RoundTripper
	// Logger gets a line per failed attempt. If nil, nothing is logged.
	Logger *slog.Logger
	// Metrics are updated as events are delivered. If nil, a set of its
	// own (registered nowhere).
	Metrics *Metrics
	// Now is the clock. If nil, time.Now.
	Now func() time.Time
}

// Bounds on what a receiver can make the worker hold.
const (
	// maxAnswerRead is how much of an answer's body is read (and thrown
	// away, so the connection can be reused) before it is closed.
	maxAnswerRead = 4 << 10
	// maxAnswerHeader bounds an answer's headers.
	maxAnswerHeader = 16 << 10
	// leaseMargin is how much longer than Timeout a lease lasts: time to
	// record the outcome before another instance may take the event.
	leaseMargin = 30 * time.Second
	// pendingEvery is how often the pending gauge is refreshed.
	pendingEvery = 5 * time.Second
	// pruneEvery is how often delivered events past KeepDelivered are deleted.
	pruneEvery = time.Hour
)

func (c *Config) validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return errors.New("webhook: URL is empty")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("webhook: URL must be an http or https URL")
	case u.User != nil:
		return errors.New("webhook: URL must not hold a user name or password (the signature authenticates deliveries)")
	case u.Fragment != "":
		return errors.New("webhook: URL must not hold a #fragment")
	case len(c.Secrets) == 0 || len(c.Secrets) > MaxSecrets:
		return fmt.Errorf("webhook: Secrets must hold 1 to %d secrets, not %d", MaxSecrets, len(c.Secrets))
	case c.Queue == nil:
		return errors.New("webhook: Queue is nil")
	case c.Timeout < 0 || c.Timeout > 5*time.Minute:
		return errors.New("webhook: Timeout must be between 0 (the default) and 5m")
	case c.Concurrency < 0 || c.Concurrency > 256:
		return errors.New("webhook: Concurrency must be between 0 (the default) and 256")
	case c.PollInterval < 0:
		return errors.New("webhook: PollInterval is negative")
	}
	for i, s := range c.Secrets {
		if s.IsZero() {
			return fmt.Errorf("webhook: Secrets[%d] holds no key (use ParseSecret)", i)
		}
	}
	return nil
}

// Worker delivers the queue's events until its Run returns.
type Worker struct {
	cfg    Config
	client *http.Client
	lease  time.Duration
}

// New checks c, fills in its defaults, and returns a Worker.
func New(c Config) (*Worker, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Timeout == 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Concurrency == 0 {
		c.Concurrency = 8
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if len(c.Backoff.Steps) == 0 {
		c.Backoff = DefaultBackoff()
	}
	if c.KeepDelivered == 0 {
		c.KeepDelivered = 7 * 24 * time.Hour
	}
	if c.Transport == nil {
		c.Transport = newTransport(c.Timeout, c.Concurrency)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Worker{
		cfg: c,
		client: &http.Client{
			Transport: c.Transport,
			// A redirect is an answer like any other non-2xx one: the
			// event goes where it was configured to go, or is retried.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		lease: c.Timeout + leaseMargin,
	}, nil
}

func newTransport(timeout time.Duration, conns int) *http.Transport {
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:    min(timeout, 10*time.Second),
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxAnswerHeader,
		MaxIdleConns:           conns,
		MaxIdleConnsPerHost:    conns,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
}

// leaseBatch is how many free slots make a lease worth its write.
func leaseBatch(concurrency int) int { return max(1, concurrency/4) }

// Run delivers due events, at most Concurrency at a time, until ctx is
// done; then it cuts the attempts still running (their events are due
// again at once) and returns when they have been recorded.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.cfg.Concurrency) // one per running attempt
	finished := make(chan struct{}, 1)              // an attempt ended: a slot is free
	wait := w.cfg.PollInterval
	var lastPending, lastPrune time.Time
	for {
		now := w.cfg.Now()
		if now.Sub(lastPending) >= pendingEvery {
			lastPending = now
			if n, err := w.cfg.Queue.PendingEvents(ctx); err == nil {
				w.cfg.Metrics.Pending.Set(float64(n))
			}
		}
		if now.Sub(lastPrune) >= pruneEvery {
			lastPrune = now
			w.prune(ctx, now)
		}
		free := cap(slots) - len(slots)
		more := false
		// Lease in batches: each lease is a write (an fsync on SQLite's one
		// writer), so a slot freed alone waits for a few more, unless
		// nothing is running.
		if free > 0 && (free >= leaseBatch(cap(slots)) || len(slots) == 0) {
			evs, err := w.cfg.Queue.LeaseEvents(ctx, now, w.lease, free)
			switch {
			case err != nil && ctx.Err() == nil:
				w.cfg.Logger.Error("webhook: leasing due events failed", "err", err)
				wait = min(2*wait, 30*time.Second) // the database is down: do not hammer it
			case err == nil:
				wait = w.cfg.PollInterval
				more = len(evs) == free // a full batch: more may be due
			}
			for _, ev := range evs {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.attempt(ctx, ev)
					<-slots
					select {
					case finished <- struct{}{}:
					default:
					}
				}()
			}
		}
		if more && len(slots) < cap(slots) {
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-finished:
			timer.Stop()
		case <-timer.C:
		}
	}
}

func (w *Worker) prune(ctx context.Context, now time.Time) {
	for range 100 { // at most 100 000 rows per hour
		n, err := w.cfg.Queue.PruneEvents(ctx, now.Add(-w.cfg.KeepDelivered), store.MaxListLimit)
		if err != nil {
			if ctx.Err() == nil {
				w.cfg.Logger.Error("webhook: pruning delivered events failed", "err", err)
			}
			return
		}
		if n < store.MaxListLimit {
			return
		}
	}
}

// attempt delivers ev once and records the outcome.
func (w *Worker) attempt(ctx context.Context, ev store.Event) {
	status, err := w.post(ctx, ev)
	now := w.cfg.Now()
	res := store.AttemptResult{At: now, Status: status}
	log := w.cfg.Logger.With("event_id", ev.ID, "type", ev.Type, "upload_id", ev.UploadID, "attempt", ev.Attempts)
	switch {
	case err == nil && status >= 200 && status < 300:
		res.Delivered = true
	case ctx.Err() != nil:
		// Shutdown cut the attempt, not the receiver: due again at once.
		res.RetryAt, res.Error = now, "cut by shutdown"
	default:
		res.Error = attemptError(status, err, w.cfg.Timeout)
		if status != http.StatusGone {
			if wait, ok := w.cfg.Backoff.Next(ev.Attempts, now.Sub(ev.CreatedAt)); ok {
				res.RetryAt = now.Add(wait)
			}
		}
	}
	// Recorded even when ctx is done (shutdown), within a bound of its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ferr := w.cfg.Queue.FinishAttempt(rctx, ev, res)
	switch {
	case errors.Is(ferr, store.ErrLeaseLost):
		log.Warn("webhook: attempt outlived its lease; its outcome is not recorded", "status", status)
		return
	case ferr != nil:
		// The lease runs out and the event is attempted again.
		log.Error("webhook: recording an attempt failed", "status", status, "err", ferr)
		return
	}
	m := w.cfg.Metrics
	switch {
	case res.Delivered:
		m.Delivered.Inc()
		m.Latency.Observe(now.Sub(ev.CreatedAt).Seconds())
	case ctx.Err() != nil:
	case !res.RetryAt.IsZero():
		m.Retried.Inc()
		log.Warn("webhook delivery failed; will retry", "status", status, "error", res.Error, "next_attempt", res.RetryAt.Format(time.RFC3339))
	default:
		m.GivenUp.Inc()
		log.Error("webhook delivery failed; given up", "status", status, "error", res.Error)
	}
}

// post sends one attempt and returns the answer's status (0 for none).
// At most maxAnswerRead bytes of the answer are read.
func (w *Worker) post(ctx context.Context, ev store.Event) (int, error) {
	body, err := Body(ev)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ossgate-webhooks/1")
	SetHeaders(req.Header, ev.ID, w.cfg.Now(), body, w.cfg.Secrets...)
	res, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	io.CopyN(io.Discard, res.Body, maxAnswerRead) //nolint:errcheck // the status is the answer
	return res.StatusCode, nil
}

// attemptError says why an attempt failed, without the URL (which may
// carry a token in its query) and never with the secret or signature.
func attemptError(status int, err error, timeout time.Duration) string {
	switch {
	case err == nil:
		return "HTTP " + strconv.Itoa(status)
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within " + timeout.String()
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return err.Error()
}
