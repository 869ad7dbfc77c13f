package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossgate/ossgate/store"
	"github.com/ossgate/ossgate/webhook"
)

// BenchmarkDeliverUnderInserts: b.N records inserted by 64 goroutines (as
// concurrent callbacks would) while the worker delivers their events to a
// receiver that answers 204. It reports how many of the events had arrived
// when the last insert returned, and how long after it the last one came:
// a worker that keeps up delivers while the inserts run.
//
//	GOMAXPROCS=1 go test -run '^$' -bench DeliverUnderInserts -benchtime 5000x ./webhook
func BenchmarkDeliverUnderInserts(b *testing.B) {
	for _, c := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) { benchDeliverUnderInserts(b, c) })
	}
}

func benchDeliverUnderInserts(b *testing.B, concurrency int) {
	var arrived atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	e := newEnv(b, recv.URL)
	e.cfg.PollInterval = time.Second
	e.cfg.Concurrency = concurrency
	w, err := webhook.New(e.cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
				if _, _, err := e.db.Insert(context.Background(), store.Record{ID: id, User: "bench", Bucket: "examplebucket",
					Key: "uploads/" + id, Size: 1, ContentType: "image/png", ETag: "E", Filename: "f.png", CreatedAt: time.Now()}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	insertsDone := time.Now()
	atEnd := arrived.Load()
	for arrived.Load() < int64(b.N) && time.Since(insertsDone) < 30*time.Second {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(atEnd)/float64(b.N), "delivered-at-end")
	b.ReportMetric(float64(time.Since(insertsDone).Milliseconds()), "ms-drain")
}
