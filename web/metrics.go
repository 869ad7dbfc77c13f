package web

import (
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are ossgate's own Prometheus series, beside Echo's request
// metrics. One registry per server keeps tests independent.
type Metrics struct {
	reg          *prometheus.Registry
	policies     *prometheus.CounterVec
	callbacks    *prometheus.CounterVec
	keyFetches   *prometheus.CounterVec
	storeLatency *prometheus.HistogramVec
	rateLimited  *prometheus.CounterVec
}

// NewMetrics registers ossgate's series and the Go runtime's on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
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
	m.reg.MustRegister(m.policies, m.callbacks, m.keyFetches, m.storeLatency, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// KeyLookup is the callback.FetcherConfig.OnFetch hook.
func (m *Metrics) KeyLookup(_ string, cached bool) {
	if cached {
		m.keyFetches.WithLabelValues("hit").Inc()
	} else {
		m.keyFetches.WithLabelValues("miss").Inc()
	}
}

func (m *Metrics) observeStore(op string, start time.Time) {
	m.storeLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// middleware records request counts and latencies by route and status.
func (m *Metrics) middleware() echo.MiddlewareFunc {
	return echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace:                 "ossgate",
		Subsystem:                 "http",
		Registerer:                m.reg,
		DoNotUseRequestPathFor404: true,
	})
}

func (m *Metrics) handler() echo.HandlerFunc {
	return echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: m.reg})
}
