package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ossgate/ossgate/store"
)

func init() {
	commands["webhooks"] = command{
		summary: "list webhook events (--failed) and retry them (ID… or --all)",
		run:     runWebhooks,
	}
}

const webhooksUsage = `usage:
  ossgate webhooks list [--failed | --pending | --delivered] [--limit N]
  ossgate webhooks retry ID... | --all
The database is OSSGATE_DB, as for the server.`

// runWebhooks is `ossgate webhooks …`: 0 done, 1 the database failed, 2 bad usage.
func runWebhooks(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, webhooksUsage)
		return 2
	}
	var run func(context.Context, store.Store, []string, io.Writer, io.Writer) int
	switch args[0] {
	case "list":
		run = webhooksList
	case "retry":
		run = webhooksRetry
	default:
		fmt.Fprintf(stderr, "ossgate webhooks: unknown subcommand %q\n%s\n", args[0], webhooksUsage)
		return 2
	}
	dsn := strings.TrimSpace(getenv("OSSGATE_DB"))
	if dsn == "" {
		dsn = "ossgate.db"
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintf(stderr, "ossgate webhooks: OSSGATE_DB: %v\n", err)
		return 1
	}
	defer db.Close()
	return run(ctx, db, args[1:], stdout, stderr)
}

func webhooksList(ctx context.Context, db store.Store, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ossgate webhooks list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	failed := fs.Bool("failed", false, "only events given up")
	pending := fs.Bool("pending", false, "only events not yet delivered")
	delivered := fs.Bool("delivered", false, "only delivered events (kept 7 days)")
	limit := fs.Int("limit", 100, "at most this many, newest first (1-1000)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, webhooksUsage)
		return 2
	}
	var state store.EventState
	n := 0
	for _, f := range []struct {
		set bool
		s   store.EventState
	}{{*failed, store.EventFailed}, {*pending, store.EventPending}, {*delivered, store.EventDelivered}} {
		if f.set {
			state, n = f.s, n+1
		}
	}
	if n > 1 || *limit < 1 || *limit > store.MaxListLimit {
		fmt.Fprintln(stderr, webhooksUsage)
		return 2
	}
	evs, err := db.Events(ctx, state, *limit)
	if err != nil {
		fmt.Fprintf(stderr, "ossgate webhooks list: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tUPLOAD\tSTATE\tATTEMPTS\tLAST STATUS\tCREATED\tNEXT ATTEMPT\tLAST ERROR")
	for _, ev := range evs {
		next := "-"
		if ev.State == store.EventPending {
			next = ev.NextAttemptAt.Format(time.RFC3339)
		}
		status := "-"
		if ev.LastStatus != 0 {
			status = fmt.Sprint(ev.LastStatus)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", ev.ID, ev.Type, printable(ev.UploadID), ev.State, ev.Attempts,
			status, ev.CreatedAt.Format(time.RFC3339), next, printable(ev.LastError))
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

func webhooksRetry(ctx context.Context, db store.Store, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ossgate webhooks retry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("all", false, "every failed event")
	if err := fs.Parse(args); err != nil || *all == (fs.NArg() > 0) {
		fmt.Fprintln(stderr, webhooksUsage)
		return 2
	}
	now := time.Now()
	if *all {
		n, err := db.RetryFailedEvents(ctx, now)
		if err != nil {
			fmt.Fprintf(stderr, "ossgate webhooks retry: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%d failed events are due again\n", n)
		return 0
	}
	code := 0
	for _, id := range fs.Args() {
		switch err := db.RetryEvent(ctx, id, now); {
		case errors.Is(err, store.ErrNotFound):
			fmt.Fprintf(stderr, "ossgate webhooks retry: %s: no failed or pending event with that id\n", printable(id))
			code = 1
		case err != nil:
			fmt.Fprintf(stderr, "ossgate webhooks retry: %s: %v\n", printable(id), err)
			return 1
		default:
			fmt.Fprintf(stdout, "%s is due again\n", printable(id))
		}
	}
	return code
}

// printable quotes s when it holds anything that could upset a terminal
// (an upload id or error text comes from outside).
func printable(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\t' {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
