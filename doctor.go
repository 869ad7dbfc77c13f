package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ossgate/ossgate/ossclient"
)

func init() {
	commands["doctor"] = command{
		summary: "check the configuration, OSS (bucket, permissions, clock, CORS), callbacks, identity and database before going live",
		run: func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
			return doctorMain(ctx, args, getenv, os.Stdin, stdout, stderr)
		},
	}
}

// status is a check's outcome. Only FAIL makes the doctor exit 1.
type status string

const (
	pass status = "PASS"
	warn status = "WARN"
	fail status = "FAIL"
)

// finding is one line of the doctor's report.
type finding struct {
	Check  string `json:"check"`
	Status status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"` // how to repair a FAIL (or a WARN); "" when nothing to do
}

func passed(check, format string, args ...any) finding {
	return finding{Check: check, Status: pass, Detail: fmt.Sprintf(format, args...)}
}

func warned(check, detail, fix string) finding {
	return finding{Check: check, Status: warn, Detail: detail, Fix: fix}
}

func failed(check, detail, fix string) finding {
	return finding{Check: check, Status: fail, Detail: detail, Fix: fix}
}

// doctorTimeout bounds the whole run; each network call has its own,
// shorter bound, and independent groups of checks run side by side.
const doctorTimeout = 25 * time.Second

// doctor holds what the checks share. Tests build one around a config of
// their own.
type doctor struct {
	cfg Config
	// getenv tells settings the operator made from ones local mode
	// generated (a generated secret differs in every process).
	getenv func(string) string
	oss    *ossclient.Client
	// web fetches the public URL and the JWKS: no redirects, short timeouts.
	web      *http.Client
	resolver *net.Resolver
	now      func() time.Time
}

func newDoctor(cfg Config, getenv func(string) string) (*doctor, error) {
	client, err := newOSSClient(cfg)
	if err != nil {
		return nil, err
	}
	return &doctor{
		cfg:    cfg,
		getenv: getenv,
		oss:    client,
		web: &http.Client{
			Timeout:       5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		resolver: net.DefaultResolver,
		now:      time.Now,
	}, nil
}

// run runs every check and returns the findings in a fixed order. Groups
// that do not depend on each other run concurrently, so that an
// unreachable OSS and an unreachable database cost their timeouts once.
func (d *doctor) run(ctx context.Context) []finding {
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	groups := []func(context.Context) []finding{
		d.checkOSS,
		d.checkCallbacks,
		d.checkIdentity,
		d.checkDatabase,
	}
	results := make([][]finding, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { results[i] = g(ctx) })
	}
	wg.Wait()
	var out []finding
	for _, r := range results {
		out = append(out, r...)
	}
	return out
}

// checkOSS runs the checks that talk to OSS; when the bucket cannot be
// read at all, the others would only repeat that, so they are skipped.
func (d *doctor) checkOSS(ctx context.Context) []finding {
	bucket, info, ok, bucketErr := d.checkBucket(ctx)
	out := []finding{bucket}
	if d.cfg.Credentials.SecurityToken != "" {
		out = append(out, d.checkSTS())
	}
	if !ok && errors.Is(bucketErr, ossclient.ErrUnavailable) {
		// Unreachable: the clock, permissions and CORS would time out too.
		return append(out, warned("clock", "not measured: OSS did not answer", ""),
			warned("oss.permissions", "not checked: OSS did not answer", ""),
			warned("cors", "not checked: OSS did not answer", ""))
	}
	out = append(out, d.checkClock(ctx))
	if !ok {
		return append(out, warned("oss.permissions", "not checked: the bucket could not be read", ""),
			warned("cors", "not checked: the bucket could not be read", ""))
	}
	out = append(out, d.checkPermissions(ctx, info)...)
	return append(out, d.checkCORS(ctx)...)
}

// doctorFlags are the command's options.
type doctorFlags struct {
	json, fixCORS, yes bool
}

func parseDoctorFlags(args []string, stderr io.Writer) (doctorFlags, error) {
	var f doctorFlags
	fs := flag.NewFlagSet("ossgate doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.json, "json", false, "print the findings as a JSON array of {check, status, detail, fix}")
	fs.BoolVar(&f.fixCORS, "fix-cors", false, "add the bucket CORS rule the configured origins need (keeps every other rule)")
	fs.BoolVar(&f.yes, "yes", false, "with --fix-cors: do not ask for confirmation")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ossgate doctor [--json] [--fix-cors [--yes]]")
		fmt.Fprintln(stderr, "Checks, with the server's environment, everything ossgate needs before going live; exit 1 when a check fails.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.yes && !f.fixCORS {
		return f, fmt.Errorf("--yes only goes with --fix-cors")
	}
	return f, nil
}

// doctorMain is `ossgate doctor`: 0 when nothing fails, 1 when something
// does, 2 on bad flags.
func doctorMain(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags, err := parseDoctorFlags(args, stderr)
	if err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintln(stderr, "ossgate doctor:", err)
		}
		return 2
	}
	cfg, errs := loadConfig(getenv)
	findings := configFindings(cfg, errs)
	if len(errs) == 0 {
		d, err := newDoctor(cfg, getenv)
		if err != nil {
			findings = append(findings, failed("config", "the OSS client refuses the configuration: "+err.Error(), "fix the OSS_* variables named"))
		} else {
			if flags.fixCORS {
				if code := d.fixCORS(ctx, stdin, stdout, flags.yes); code != 0 {
					return code
				}
			}
			findings = append(findings, d.run(ctx)...)
		}
	}
	if flags.json {
		writeFindingsJSON(stdout, findings)
	} else {
		writeFindings(stdout, findings)
	}
	for _, f := range findings {
		if f.Status == fail {
			return 1
		}
	}
	return 0
}

// configFindings are what the server would refuse at start, and what it
// would warn about.
func configFindings(cfg Config, errs []error) []finding {
	var out []finding
	for _, err := range errs {
		out = append(out, failed("config", err.Error(), "set the variable as the message says; the server refuses to start until then"))
	}
	if len(errs) > 0 {
		return append(out, warned("config", "the other checks need a valid configuration: not run", ""))
	}
	for _, w := range cfg.Warnings() {
		out = append(out, warned("config", w, ""))
	}
	mode := "OSS bucket " + cfg.Bucket + " in " + cfg.Region
	if cfg.Local {
		mode = "local mode (no OSS credentials): the emulator at " + cfg.OSSEndpoint + " stands in for OSS"
	}
	return append(out, passed("config", "valid; %s", mode))
}

const maxNameWidth = 26

func writeFindings(w io.Writer, findings []finding) {
	width := 0 // names longer than maxNameWidth push their line out
	for _, f := range findings {
		width = min(max(width, len(f.Check)), maxNameWidth)
	}
	bw := bufio.NewWriter(w)
	for _, f := range findings {
		fmt.Fprintf(bw, "%s  %-*s  %s\n", f.Status, width, f.Check, oneLine(f.Detail))
		if f.Fix != "" {
			fmt.Fprintf(bw, "      %-*s  fix: %s\n", width, "", oneLine(f.Fix))
		}
	}
	bw.Flush()
}

func writeFindingsJSON(w io.Writer, findings []finding) {
	if findings == nil {
		findings = []finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(findings) //nolint:errcheck // a closed stdout has nobody to tell
}

// oneLine keeps a finding on its line whatever an error message holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
