package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Saturation phases are driven by wrk, not vegeta: on the one core the
// generator gets, vegeta (a Go HTTP client that records every result) tops
// out below what a bare net/http handler on the other core serves, so it
// would measure itself. wrk (-t1, event loop, C) is several times cheaper
// per request. vegeta still paces the fixed-rate phase and sends the
// callbacks (each one once), where the server, not the generator, is the
// limit.

// wrkRequest is one request of a wrk script.
type wrkRequest struct {
	Method  string
	Path    string
	Headers map[string]string
	Body    string
}

// wrkMarker starts the line the script's done() prints.
const wrkMarker = "OSSGATE-WRK "

// wrkScript is a Lua script that sends reqs round-robin (each connection
// in turn takes the next) and prints the summary as one JSON line.
func wrkScript(reqs []wrkRequest) string {
	var b strings.Builder
	b.WriteString("local reqs = {}\ninit = function(args)\n")
	for _, r := range reqs {
		b.WriteString("  reqs[#reqs+1] = wrk.format(" + luaString(r.Method) + ", " + luaString(r.Path) + ", {")
		keys := make([]string, 0, len(r.Headers))
		for k := range r.Headers {
			keys = append(keys, k)
		}
		for _, k := range sortedStrings(keys) {
			b.WriteString("[" + luaString(k) + "]=" + luaString(r.Headers[k]) + ",")
		}
		b.WriteString("}, ")
		if r.Body == "" {
			b.WriteString("nil")
		} else {
			b.WriteString(luaString(r.Body))
		}
		b.WriteString(")\n")
	}
	b.WriteString(`end
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(s, latency, requests)
  io.write(string.format('` + wrkMarker + `{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    s.requests, s.duration, s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`)
	return b.String()
}

// luaString quotes s as a Lua string literal (decimal escapes for every
// byte that is not plain printable ASCII).
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			b.WriteString("\\" + strconv.Itoa(int(c)))
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wrkSummary is what the script's done() prints.
type wrkSummary struct {
	Requests   uint64 `json:"requests"`
	DurationUS int64  `json:"duration_us"`
	Connect    uint64 `json:"connect"`
	Read       uint64 `json:"read"`
	Write      uint64 `json:"write"`
	Status     uint64 `json:"status"` // answers with a status above 399
	Timeout    uint64 `json:"timeout"`
	P50US      int64  `json:"p50_us"`
	P99US      int64  `json:"p99_us"`
	MaxUS      int64  `json:"max_us"`
}

func (s wrkSummary) errors() uint64 { return s.Connect + s.Read + s.Write + s.Status + s.Timeout }

// parseWrkOutput finds the summary line in wrk's output.
func parseWrkOutput(out []byte) (wrkSummary, error) {
	for _, line := range bytes.Split(out, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte(wrkMarker)); ok {
			var s wrkSummary
			if err := json.Unmarshal(rest, &s); err != nil {
				return wrkSummary{}, fmt.Errorf("wrk summary %q: %w", rest, err)
			}
			return s, nil
		}
	}
	return wrkSummary{}, fmt.Errorf("no summary in wrk's output:\n%s", out)
}

// wrkRunner runs wrk on the generator's CPU.
type wrkRunner struct {
	bin    string
	pin    []string // taskset -c N, or nothing
	script map[string]string
	dir    string
}

// findWrk returns wrk's path, or "" when it is not installed.
func findWrk() string {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return p
}

// run drives url (scheme://host:port) with the requests of script for d
// over conns connections.
func (w *wrkRunner) run(ctx context.Context, id, base string, reqs []wrkRequest, conns int, d time.Duration) (wrkSummary, error) {
	path, ok := w.script[id]
	if !ok {
		path = filepath.Join(w.dir, "wrk-"+id+".lua")
		if err := os.WriteFile(path, []byte(wrkScript(reqs)), 0o644); err != nil {
			return wrkSummary{}, err
		}
		w.script[id] = path
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	args := append(append([]string(nil), w.pin...), w.bin, "-t1", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", "10s", "-s", path, base)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return wrkSummary{}, ctx.Err()
		}
		return wrkSummary{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrkOutput(out)
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

var errNoWrk = errors.New("wrk is not installed (apt-get install wrk)")
