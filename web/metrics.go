package web

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ossgate/ossgate/policy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are ossgate's own Prometheus series, beside Echo's request
// metrics. One registry per server keeps tests independent.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	policies     *prometheus.CounterVec
	callbacks    *prometheus.CounterVec
	keyFetches   *prometheus.CounterVec
	storeLatency *prometheus.HistogramVec
	rateLimited  *prometheus.CounterVec
	ossLatency   *prometheus.HistogramVec

	// series caches the request series by label values: WithLabelValues
	// hashes the labels and allocates on every call, a cache hit does not.
	seriesMu  sync.RWMutex
	series    map[seriesKey]requestSeries
	issued    map[[2]string]prometheus.Counter // policies by kind and version, under seriesMu
	observers map[observerKey]prometheus.Observer
}

type seriesKey struct {
	route, method string
	code          int
}

type requestSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// NewMetrics registers ossgate's series and the Go runtime's on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		series:    map[seriesKey]requestSeries{},
		issued:    map[[2]string]prometheus.Counter{},
		observers: map[observerKey]prometheus.Observer{},
		// No label value comes from the request: the route is a registered
		// one (or "unmatched"), the method a standard one (or "other"), and
		// there is no host or path label, so clients cannot add series.
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossgate_http_requests_total", Help: "HTTP requests by registered route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ossgate_http_request_duration_seconds", Help: "HTTP request latency by registered route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		policies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossgate_policies_issued_total", Help: "Uploads authorised, by kind (post: POST policy, put: presigned PUT) and signature version.",
		}, []string{"kind", "version"}),
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossgate_callbacks_total", Help: "OSS callbacks by result (accepted, or the rejection code).",
		}, []string{"result"}),
		keyFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossgate_callback_key_lookups_total", Help: "Callback public-key lookups: cache hit or fetched (miss).",
		}, []string{"cache"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ossgate_store_duration_seconds", Help: "Latency of upload-record store operations.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossgate_rate_limited_total", Help: "Requests refused with 429, by limiter.",
		}, []string{"limiter"}),
	}
	m.ossLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ossgate_oss_request_duration_seconds", Help: "Latency of ossgate's own requests to OSS, by operation and result (ok or error).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
	}, []string{"op", "result"})
	m.reg.MustRegister(m.ossLatency, m.requests, m.latency, m.policies, m.callbacks, m.keyFetches, m.storeLatency, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds collectors of other components (the webhook worker's, say)
// to the registry /metrics serves.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// KeyLookup is the callback.FetcherConfig.OnFetch hook.
func (m *Metrics) KeyLookup(_ string, cached bool) {
	if cached {
		m.keyFetches.WithLabelValues("hit").Inc()
	} else {
		m.keyFetches.WithLabelValues("miss").Inc()
	}
}

func (m *Metrics) observeOSS(op string, start time.Time, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.observer(m.ossLatency, op, result).Observe(time.Since(start).Seconds())
}

// policyIssued counts one upload authorised.
func (m *Metrics) policyIssued(kind string, v policy.Version) {
	k := [2]string{kind, string(v)}
	m.seriesMu.RLock()
	ctr, ok := m.issued[k]
	m.seriesMu.RUnlock()
	if !ok {
		ctr = m.policies.WithLabelValues(kind, string(v))
		m.seriesMu.Lock()
		m.issued[k] = ctr
		m.seriesMu.Unlock()
	}
	ctr.Inc()
}

func (m *Metrics) observeStore(op string, start time.Time) {
	m.observer(m.storeLatency, op, "").Observe(time.Since(start).Seconds())
}

// observer is vec's series for the label values a (and b, unless empty),
// from a cache: the ops and results are a handful of constants.
func (m *Metrics) observer(vec *prometheus.HistogramVec, a, b string) prometheus.Observer {
	k := observerKey{vec, a, b}
	m.seriesMu.RLock()
	o, ok := m.observers[k]
	m.seriesMu.RUnlock()
	if ok {
		return o
	}
	if b == "" {
		o = vec.WithLabelValues(a)
	} else {
		o = vec.WithLabelValues(a, b)
	}
	m.seriesMu.Lock()
	m.observers[k] = o
	m.seriesMu.Unlock()
	return o
}

type observerKey struct {
	vec  *prometheus.HistogramVec
	a, b string
}

// unmatchedRoute labels requests no route matched (404, 405).
const unmatchedRoute = "unmatched"

// middleware records request counts and latencies by route, method and
// status. routes is the set of registered paths; anything else is
// unmatchedRoute.
func (m *Metrics) middleware(routes func(string) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				// Answer now, so the status counted is the one sent; the
				// error handler writes nothing for a committed response, so
				// the outer middleware may see err again.
				c.Error(err)
			}
			route := c.Path()
			if !routes(route) {
				route = unmatchedRoute
			}
			rs := m.requestSeries(route, methodLabel(c.Request().Method), c.Response().Status)
			rs.requests.Inc()
			rs.latency.Observe(time.Since(start).Seconds())
			return err
		}
	}
}

// requestSeries returns the request counter and latency histogram of one
// route, method and status. The label values are bounded (registered
// routes, standard methods, the codes the server answers), so is the cache.
func (m *Metrics) requestSeries(route, method string, code int) requestSeries {
	k := seriesKey{route, method, code}
	m.seriesMu.RLock()
	rs, ok := m.series[k]
	m.seriesMu.RUnlock()
	if ok {
		return rs
	}
	rs = requestSeries{
		requests: m.requests.WithLabelValues(route, method, strconv.Itoa(code)),
		latency:  m.latency.WithLabelValues(route, method),
	}
	m.seriesMu.Lock()
	m.series[k] = rs
	m.seriesMu.Unlock()
	return rs
}

// methodLabel is the request method if it is a standard one, else "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

// Handler serves the registry in the Prometheus text format, for /metrics
// on the API port or on a listener of its own.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
