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
	// FinishAttempts records many outcomes in one write; recorded[i] is
	// false when fs[i]'s lease was lost.
	FinishAttempts(ctx context.Context, fs []store.Finish) (recorded []bool, err error)
	PendingEvents(ctx context.Context) (int, error)
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// waker is a Queue that says when this process committed events
// (store.Outbox's EventsWritten), so that they are leased at once rather
// than at the next poll.
type waker interface {
	EventsWritten() <-chan struct{}
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
	// there are none: for retries falling due, events other instances
	// wrote, leases that ran out. Events this process writes wake the
	// worker at once when the Queue says so (EventsWritten). If zero, 1 s.
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
	// record the outcome (bounded by recordTimeout) before another
	// instance may take the event. It is also how long past Timeout the
	// events a killed instance held wait before they are tried again.
	leaseMargin = 10 * time.Second
	// recordTimeout bounds one write of outcomes.
	recordTimeout = 5 * time.Second
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
	url    *url.URL // cfg.URL, parsed once: every attempt's request shares it (net/http only reads it)
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
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, err // validate parsed it already
	}
	return &Worker{
		cfg: c,
		url: u,
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

// window is how many events a worker holds leased and not yet attempted:
// Concurrency running and up to three times as many waiting for a sender,
// so that a lease is written for many events at once (each is a write that
// waits for a commit) while the senders have work meanwhile. Outcomes
// waiting to be recorded do not count: marks that wait for a commit must
// not slow the deliveries.
func (w *Worker) window() int { return 4 * w.cfg.Concurrency }

// outcome is one attempt's result, for the recorder.
type outcome struct {
	ev     store.Event
	res    store.AttemptResult
	status int
	cut    bool // shutdown cut the attempt, or it never started
}

// maxRecordBatch bounds the outcomes written at once.
const maxRecordBatch = 256

// Run delivers due events, at most Concurrency at a time, until ctx is
// done; then it cuts the attempts still running (their events are due
// again at once, as are those leased but not started) and returns when
// every outcome has been recorded.
//
// Three kinds of goroutine, all started here and none per event: this
// loop leases events and hands them out; Concurrency senders deliver
// them; one recorder writes the outcomes in batches, each holding all that
// ended while the last write ran.
func (w *Worker) Run(ctx context.Context) error {
	var wake <-chan struct{}
	if wq, ok := w.cfg.Queue.(waker); ok {
		wake = wq.EventsWritten()
	}
	// Buffered for the whole window, so a lease never waits for a sender
	// and a sender done with one event takes the next without waiting for
	// this loop to be scheduled (on one busy core, every hand-off between
	// goroutines costs a turn of the run queue).
	work := make(chan store.Event, w.window())
	results := make(chan outcome, maxRecordBatch)
	attempted := make(chan struct{}, w.window()) // a sender is done with an event
	var senders sync.WaitGroup
	for range w.cfg.Concurrency {
		senders.Add(1)
		go func() {
			defer senders.Done()
			sg := newSigner(w.cfg.Secrets)
			for ev := range work {
				if ctx.Err() != nil { // shutdown: the rest go back at once
					results <- w.cut(ev, 0)
				} else {
					results <- w.attempt(ctx, sg, ev)
				}
				attempted <- struct{}{}
			}
		}()
	}
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		w.record(ctx, results)
	}()

	var (
		outstanding int    // leased and not yet attempted
		due         = true // events may be due: lease when there is room
		wait        = w.cfg.PollInterval
		lastPending time.Time
		lastPrune   time.Time
	)
	timer := time.NewTimer(wait)
	defer timer.Stop()
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
		// Lease once half the window is free: fewer, larger leases.
		if room := w.window() - outstanding; due && room >= w.window()/2 && ctx.Err() == nil {
			evs, err := w.cfg.Queue.LeaseEvents(ctx, now, w.lease, room)
			switch {
			case err != nil && ctx.Err() == nil:
				w.cfg.Logger.Error("webhook: leasing due events failed", "err", err)
				wait = min(2*wait, 30*time.Second) // the database is down: do not hammer it
				due = false
			case err == nil:
				wait = w.cfg.PollInterval
				due = len(evs) == room // a full lease: more may be due
			}
			for _, ev := range evs {
				work <- ev // never waits: outstanding ≤ window
			}
			outstanding += len(evs)
		}
		select {
		case <-attempted:
			outstanding--
			continue
		case <-wake:
			due = true
			continue
		case <-timer.C:
			due = true
			timer.Reset(wait)
			continue
		case <-ctx.Done():
		}
		// Shutdown: the senders cut their attempts and hand back the
		// events not started; wait until the recorder has written them all.
		close(work)
		go func() {
			senders.Wait()
			close(results)
		}()
		for {
			select {
			case <-attempted:
			case <-recorderDone:
				return nil
			}
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

// cut is the outcome of an attempt that shutdown cut or never let start:
// due again at once, not counted against the receiver.
func (w *Worker) cut(ev store.Event, status int) outcome {
	now := w.cfg.Now()
	return outcome{ev: ev, status: status, cut: true,
		res: store.AttemptResult{At: now, Status: status, RetryAt: now, Error: "cut by shutdown"}}
}

// attempt delivers ev once and says what became of it.
func (w *Worker) attempt(ctx context.Context, sg *signer, ev store.Event) outcome {
	status, err := w.post(ctx, sg, ev)
	if ctx.Err() != nil && !(err == nil && status >= 200 && status < 300) {
		return w.cut(ev, status)
	}
	now := w.cfg.Now()
	res := store.AttemptResult{At: now, Status: status}
	if err == nil && status >= 200 && status < 300 {
		res.Delivered = true
		return outcome{ev: ev, res: res, status: status}
	}
	res.Error = attemptError(status, err, w.cfg.Timeout)
	if status != http.StatusGone {
		if wait, ok := w.cfg.Backoff.Next(ev.Attempts, now.Sub(ev.CreatedAt)); ok {
			res.RetryAt = now.Add(wait)
		}
	}
	return outcome{ev: ev, res: res, status: status}
}

// record writes the outcomes from results in batches until it is closed.
func (w *Worker) record(ctx context.Context, results <-chan outcome) {
	batch := make([]outcome, 0, maxRecordBatch)
	fs := make([]store.Finish, 0, maxRecordBatch)
	for o := range results {
		batch = append(batch[:0], o)
	more:
		for len(batch) < maxRecordBatch {
			select {
			case o, ok := <-results:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		fs = fs[:0]
		for _, o := range batch {
			fs = append(fs, store.Finish{Event: o.ev, Result: o.res})
		}
		// Recorded even when ctx is done (shutdown), within a bound of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		oks, err := w.cfg.Queue.FinishAttempts(rctx, fs)
		cancel()
		for i, o := range batch {
			w.report(o, err, err == nil && oks[i])
		}
	}
}

// report updates the metrics and logs what became of one outcome.
func (w *Worker) report(o outcome, err error, ok bool) {
	log := func() *slog.Logger {
		return w.cfg.Logger.With("event_id", o.ev.ID, "type", o.ev.Type, "upload_id", o.ev.UploadID, "attempt", o.ev.Attempts)
	}
	switch {
	case err != nil:
		// The lease runs out and the event is attempted again.
		log().Error("webhook: recording an attempt failed", "status", o.status, "err", err)
		return
	case !ok:
		log().Warn("webhook: attempt outlived its lease; its outcome is not recorded", "status", o.status)
		return
	}
	m, res := w.cfg.Metrics, o.res
	switch {
	case res.Delivered:
		m.Delivered.Inc()
		m.Latency.Observe(res.At.Sub(o.ev.CreatedAt).Seconds())
	case o.cut:
	case !res.RetryAt.IsZero():
		m.Retried.Inc()
		log().Warn("webhook delivery failed; will retry", "status", o.status, "error", res.Error, "next_attempt", res.RetryAt.Format(time.RFC3339))
	default:
		m.GivenUp.Inc()
		log().Error("webhook delivery failed; given up", "status", o.status, "error", res.Error)
	}
}

// post sends one attempt and returns the answer's status (0 for none).
// At most maxAnswerRead bytes of the answer are read.
func (w *Worker) post(ctx context.Context, sg *signer, ev store.Event) (int, error) {
	body, err := Body(ev)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req := w.request(ctx, body)
	req.Header["Content-Type"] = contentTypeJSON
	req.Header["User-Agent"] = userAgent
	sg.setHeaders(req.Header, ev.ID, w.cfg.Now(), body)
	res, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	io.CopyN(io.Discard, res.Body, maxAnswerRead) //nolint:errcheck // the status is the answer
	return res.StatusCode, nil
}

// request is a POST of body to the worker's URL, as
// http.NewRequestWithContext makes it but without parsing the URL again.
func (w *Worker) request(ctx context.Context, body []byte) *http.Request {
	req := &http.Request{
		Method: http.MethodPost, URL: w.url, Host: w.url.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        make(http.Header, 6),
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		GetBody:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
	}
	return req.WithContext(ctx)
}

// Header values every delivery sends; net/http only reads them.
var (
	contentTypeJSON = []string{"application/json"}
	userAgent       = []string{"ossgate-webhooks/1"}
)

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
