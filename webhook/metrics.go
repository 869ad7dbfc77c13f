package webhook

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the worker's Prometheus series; register Collectors() with
// the registry /metrics serves.
type Metrics struct {
	Pending   prometheus.Gauge
	Delivered prometheus.Counter
	Retried   prometheus.Counter
	GivenUp   prometheus.Counter
	Latency   prometheus.Histogram
}

// NewMetrics makes the series, registered nowhere yet.
func NewMetrics() *Metrics {
	return &Metrics{
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ossgate_webhook_events_pending", Help: "Webhook events not yet delivered or given up (refreshed every few seconds).",
		}),
		Delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ossgate_webhook_delivered_total", Help: "Webhook events delivered (a 2xx answer).",
		}),
		Retried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ossgate_webhook_retried_total", Help: "Failed webhook attempts scheduled to be tried again.",
		}),
		GivenUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ossgate_webhook_given_up_total", Help: "Webhook events given up: retries exhausted, or 410 Gone.",
		}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ossgate_webhook_delivery_latency_seconds", Help: "From the event (upload recorded or deleted) to its delivery.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600},
		}),
	}
}

// Collectors are every series, for web.Metrics.Register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Pending, m.Delivered, m.Retried, m.GivenUp, m.Latency}
}
