// Package logbuf batches log lines into fewer writes. A JSON request log
// line per request is one write(2) per request, about a tenth of what a
// small request costs the server; batched, many lines share one write.
// Lines wait at most FlushDelay, and Handler writes warnings and errors at
// once, so what an operator needs after a crash is out; a kill -9 can lose
// at most FlushDelay of request lines (as nginx's "access_log buffer=…
// flush=…" can).
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

const (
	// FlushDelay is the longest a line waits in the buffer.
	FlushDelay = 100 * time.Millisecond
	// flushSize writes the buffer once it holds this much.
	flushSize = 32 << 10
)

// Writer buffers whole writes (slog writes each line with one Write) and
// passes them on in order. It is safe for concurrent use.
type Writer struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer // armed while buf holds lines
	err   error       // the first write error, returned by Flush
}

// New returns a Writer that writes to w.
func New(w io.Writer) *Writer {
	b := &Writer{w: w, buf: make([]byte, 0, flushSize)}
	b.timer = time.AfterFunc(time.Hour, func() { b.Flush() })
	b.timer.Stop()
	return b
}

// Write buffers p; it never fails (a failed write is reported by Flush).
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) == 0 {
		b.timer.Reset(FlushDelay)
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= flushSize {
		b.flushLocked()
	}
	return len(p), nil
}

// Flush writes what is buffered and returns the first error any write had.
func (b *Writer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.err
}

func (b *Writer) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	b.timer.Stop()
	if _, err := b.w.Write(b.buf); err != nil && b.err == nil {
		b.err = err
	}
	if cap(b.buf) > 4*flushSize { // one huge line should not stay pinned
		b.buf = make([]byte, 0, flushSize)
	} else {
		b.buf = b.buf[:0]
	}
}

// Handler wraps h, which writes to w, so that records at or above
// slog.LevelWarn are written out at once.
func Handler(h slog.Handler, w *Writer) slog.Handler {
	return &handler{Handler: h, w: w}
}

type handler struct {
	slog.Handler
	w *Writer
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(attrs), w: h.w}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), w: h.w}
}
