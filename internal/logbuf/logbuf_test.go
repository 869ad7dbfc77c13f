package logbuf

import (
	"bytes"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that counts writes, safe for the timer's
// goroutine.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) snapshot() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestLinesBatchedInOrderAndFlushedByTime(t *testing.T) {
	var out syncBuffer
	w := New(&out)
	log := slog.New(Handler(slog.NewJSONHandler(w, nil), w))
	for i := range 100 {
		log.Info("request", "n", i)
	}
	if s, _ := out.snapshot(); s != "" {
		t.Fatalf("info lines written before the delay: %q", s)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, writes := out.snapshot()
		if lines := strings.Count(s, "\n"); lines == 100 {
			if writes != 1 {
				t.Errorf("100 lines took %d writes, want 1", writes)
			}
			for i, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
				if !strings.Contains(line, `"n":`+strconv.Itoa(i)+`}`) {
					t.Fatalf("line %d out of order: %s", i, line)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lines not flushed within 5 s of FlushDelay %v", FlushDelay)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWarningsWrittenAtOnce(t *testing.T) {
	var out syncBuffer
	w := New(&out)
	log := slog.New(Handler(slog.NewJSONHandler(w, nil), w)).With("app", "ossgate").WithGroup("g")
	log.Info("first")
	log.Error("broken", "err", errors.New("disk full"))
	s, _ := out.snapshot()
	if !strings.Contains(s, `"msg":"first"`) || !strings.Contains(s, `"msg":"broken"`) {
		t.Fatalf("an error did not write the buffer out at once: %q", s)
	}
}

func TestFlushSizeAndErrors(t *testing.T) {
	var out syncBuffer
	w := New(&out)
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range flushSize / len(line) {
		w.Write(line)
	}
	if s, _ := out.snapshot(); len(s) != flushSize {
		t.Fatalf("a full buffer wrote %d bytes, want %d", len(s), flushSize)
	}
	bad := New(failingWriter{})
	bad.Write(line)
	if err := bad.Flush(); err == nil {
		t.Fatal("a failed write was not reported by Flush")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
