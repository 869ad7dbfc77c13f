// Command ossgate issues signed Alibaba Cloud OSS POST policies to
// authenticated browsers and apps, verifies the upload callbacks OSS sends,
// and keeps a durable record of every upload.
//
// With no OSS credentials in the environment it runs in local mode: an
// embedded OSS emulator, generated secrets and a demo page, so that
// `go run .` shows the whole upload loop on one machine.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"

	"github.com/ossgate/ossgate/internal/logbuf"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// Every request allocates (a policy request about 8 KB) against a
		// live heap of a few MiB, so the default GOGC=100 collects very
		// often; 200 measured +23% policy throughput for ~3 MiB when a
		// request allocated 30 KB (docs/PERFORMANCE.md).
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		cmd, ok := commands[os.Args[1]]
		if !ok {
			fmt.Fprintf(os.Stderr, "ossgate: unknown command %q; commands: %s (none runs the server)\n", os.Args[1], commandNames())
			os.Exit(2)
		}
		os.Exit(cmd.run(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(run(ctx, os.Getenv, os.Stderr))
}

// command is an operator tool run as `ossgate NAME args…`, with the same
// environment as the server. run returns the exit status.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int
}

// commands are registered by the files that implement them.
var commands = map[string]command{}

func commandNames() string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// run starts ossgate and blocks until ctx is done; it returns the exit code:
// 0 after a clean shutdown, 1 on a runtime failure, 2 on bad configuration.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, errs := loadConfig(getenv)
	if len(errs) > 0 {
		fmt.Fprintln(stderr, "ossgate: invalid configuration:")
		for _, err := range errs {
			fmt.Fprintln(stderr, "  "+err.Error())
		}
		return 2
	}
	logs := logbuf.New(stderr)
	defer logs.Flush()
	log := newLogger(stderr, logs)
	a, err := start(ctx, cfg, log)
	if err != nil {
		log.Error("ossgate could not start", "err", err)
		return 1
	}
	logs.Flush() // the startup lines before the banner
	a.announce(stderr)
	if err := a.serve(ctx); err != nil {
		log.Error("ossgate stopped", "err", err)
		return 1
	}
	log.Info("ossgate stopped cleanly")
	return 0
}

// newLogger writes text to a terminal, as it comes, and JSON lines
// otherwise, through buf (see internal/logbuf).
func newLogger(w io.Writer, buf *logbuf.Writer) *slog.Logger {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(logbuf.Handler(slog.NewJSONHandler(buf, nil), buf))
}
