// Command loadtest measures ossgate's throughput and latency on this machine,
// in one bounded run over loopback, and checks the "Prove speed" targets.
//
//	go run ./cmd/loadtest [-duration 10s] [-conns 64] [-rate 0] [-rounds 5] [-out result.md]
//
// It builds ossgate and cmd/loadtest/baseline into a temporary directory and starts
// them as child processes on 127.0.0.1: ossgate in non-local mode with
// made-up OSS credentials, SQLite in the temporary directory, its logs in a
// file there, and OSSGATE_CALLBACK_KEY_URLS pointing at a key server the
// tool runs itself, serving the public half of an RSA key it generated.
//
// Each server runs with GOMAXPROCS=1; with taskset and two CPUs or more, the
// servers are pinned to the last CPU and the load generator (this process and
// wrk) to CPU 0, so a server never shares its core with its own load. The
// phases at full speed are driven by wrk (-t1, -conns connections, a Lua
// script sending the users' requests round-robin) when it is installed, since
// on one core vegeta saturates before a bare net/http handler does; vegeta
// sends the callbacks and paces the fixed-rate phase. The phases are:
//
//   - floor: POST /floor of the baseline process, a bare net/http handler,
//     which every other phase is also compared with;
//   - floor-sized: POST /floor-sized, the same handler answering as many
//     bytes as ossgate's policy answer (measured before the rounds): an
//     answer past net/http's 4 KB connection buffer takes two writes;
//   - healthz: GET /healthz (Echo, middleware and request logging alone);
//   - policy: POST /api/uploads/policy with a fresh HS256 JWT per simulated
//     user (-users tokens minted up front, used round-robin);
//   - baseline: the same request to cmd/loadtest/baseline, a net/http server that
//     signs the same V4 policy the way Alibaba's sample servers do, no auth;
//   - sample (with -sample-dir): GET /token of the published sample app
//     server, github.com/alphasnow/aliyun-oss-appserver-go, built from a copy
//     of it as its README serves it;
//   - callback: POST /api/uploads/callback, each request a new object. Before
//     the measured rounds the tool has ossgate issue -max-callbacks policies,
//     renders each callback body and signs it with MD5withRSA as OSS does;
//     each is sent once.
//
// Each phase runs -duration in total, as -rounds interleaved slices, so that
// noise from other processes on the machine hits all phases alike and the
// ratios between them stay meaningful. Last, the policy endpoint is paced at
// -paced-load times its measured maximum over 64 connections, for its latency
// below saturation.
//
// It prints a markdown table (rps, p50, p99, max, errors), the ratios
// between phases of this run, the children's peak RSS (VmHWM), and PASS/MISS
// per target. It exits non-zero only when the setup fails, never for a
// missed target. The children are stopped on exit and on Ctrl-C.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

type options struct {
	duration     time.Duration
	warmup       time.Duration
	conns        int
	rate         int
	users        int
	maxCallbacks int
	keyBits      int
	pacedLoad    float64
	rounds       int
	out          string
	keep         bool
	ossgateEnv   []string // extra KEY=VALUE for the ossgate child (experiments: GOGC, GOMAXPROCS…)
	sampleDir    string   // a copy of the published sample app server's library; "" skips it
	generator    string   // auto, wrk or vegeta: what drives the saturation phases
	webhooks     bool     // a second ossgate with webhooks on, against the first (see webhooks.go)
	perfDir      string   // profile each phase's first slice with perf into this directory (see perf.go)
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

const (
	bucket = "loadbucket"
	region = "cn-hangzhou"

	// The request every simulated user sends.
	policyBody = `{"filename":"cat.jpg","size":12345,"contentType":"image/jpeg","vars":{"caption":"hi"}}`
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration of each phase")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up of healthz, policy and baseline before the rounds")
	fs.IntVar(&o.conns, "conns", 64, "concurrent connections (= vegeta workers) per phase")
	fs.IntVar(&o.rate, "rate", 0, "requests per second per phase; 0 = as fast as the connections go")
	fs.IntVar(&o.users, "users", 1000, "simulated users: one JWT each, used round-robin")
	fs.IntVar(&o.maxCallbacks, "max-callbacks", 30000, "policies issued and callbacks pre-signed for the callback phase (RSA signing is slow); 0 skips it")
	fs.IntVar(&o.keyBits, "key-bits", 1024, "size of the fake OSS callback RSA key (ossgate accepts 512..16384 bits; OSS's own key is 512)")
	fs.Float64Var(&o.pacedLoad, "paced-load", 0.5, "paced policy phase at this fraction of the measured max rate; 0 skips it")
	fs.IntVar(&o.rounds, "rounds", 5, "interleave the phases in this many rounds (each phase runs -duration/rounds per round)")
	fs.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, logs, database)")
	fs.StringVar(&o.sampleDir, "sample-dir", "", "a copy of github.com/alphasnow/aliyun-oss-appserver-go: build its README's server (GET /token) and measure it too")
	fs.StringVar(&o.generator, "generator", "auto", "what drives the phases at full speed: wrk, vegeta, or auto (wrk when installed)")
	fs.StringVar(&o.perfDir, "perf-dir", "", "profile each phase's first slice with Linux perf on its server, into DIR/PHASE.perf.data")
	fs.BoolVar(&o.webhooks, "webhooks", false, "measure webhooks on vs off: a second ossgate child with OSSGATE_WEBHOOK_URL set, delivering to a receiver in this tool; healthz, policy and callback of both, interleaved, then both children's callbacks paced at -paced-load of the maximum without webhooks (no floor, baseline, sample or paced policy phase; raise -max-callbacks so that both fit)")
	var extraEnv envList
	fs.Var(&extraEnv, "ossgate-env", "extra KEY=VALUE in ossgate's environment, e.g. GOGC=400 (repeatable; for experiments)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.ossgateEnv = extraEnv
	if o.duration <= 0 || o.duration > 5*time.Minute || o.conns < 1 || o.conns > 4096 || o.users < 1 ||
		o.maxCallbacks < 0 || o.rate < 0 || o.pacedLoad < 0 || o.pacedLoad > 1 || o.warmup < 0 ||
		o.rounds < 1 || o.rounds > 100 || o.duration/time.Duration(max(o.rounds, 1)) < 100*time.Millisecond ||
		(o.generator != "auto" && o.generator != "wrk" && o.generator != "vegeta") {
		fmt.Fprintln(stderr, "loadtest: a flag is out of range (see -h)")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadtest(ctx, o, stderr)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted; the servers were stopped")
		}
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	rep.Command = strings.TrimSpace("go run ./cmd/loadtest " + strings.Join(args, " "))
	md := rep.markdown()
	fmt.Fprint(stdout, md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 1
		}
	}
	return 0
}

// loadtest does the whole run; progress goes to logw.
func loadtest(ctx context.Context, o options, logw io.Writer) (*report, error) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(logw, "loadtest: "+format+"\n", args...)
	}
	rep := &report{Machine: describeMachine(), Started: time.Now()}
	plan := planCPUs()
	if err := plan.pinSelf(); err != nil {
		return nil, fmt.Errorf("taskset (pinning the load generator): %w", err)
	}
	rep.Machine.Placement = plan.describe()
	var runner *wrkRunner
	switch wrkBin := findWrk(); {
	case o.generator == "vegeta":
	case wrkBin != "":
		runner = &wrkRunner{bin: wrkBin, pin: plan.generatorPrefix(), script: map[string]string{}}
	case o.generator == "wrk":
		return nil, errNoWrk
	default:
		logf("wrk not found: vegeta drives every phase, and on one core it may be the bottleneck")
	}
	if runner != nil && o.duration/time.Duration(o.rounds) < time.Second {
		return nil, errors.New("with wrk, each slice (-duration / -rounds) must be at least 1s")
	}
	if o.perfDir != "" {
		if err := checkPerfDir(o.perfDir); err != nil {
			return nil, err
		}
	}

	tmp, err := os.MkdirTemp("", "ossgate-loadtest-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if runner != nil {
		runner.dir = tmp
	}

	// Build both servers.
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	ossgateBin, baselineBin := filepath.Join(tmp, "ossgate"), filepath.Join(tmp, "baseline")
	for _, b := range []struct{ out, pkg string }{{ossgateBin, "."}, {baselineBin, "./cmd/loadtest/baseline"}} {
		logf("go build -o %s %s", b.out, b.pkg)
		bctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		cmd := exec.CommandContext(bctx, "go", "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}

	// The fake OSS key and the server that publishes it.
	ossKey, err := rsa.GenerateKey(rand.Reader, o.keyBits)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&ossKey.PublicKey)
	if err != nil {
		return nil, err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	keyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var keyHits atomic.Int64
	keySrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		keyHits.Add(1)
		w.Write(pubPEM)
	}), ReadHeaderTimeout: 5 * time.Second}
	go keySrv.Serve(keyLn)
	defer keySrv.Close()
	keyHost := keyLn.Addr().String()
	keyURL := "http://" + keyHost + "/callback_pub_key_v1.pem"

	// ossgate.
	jwtSecret, ticketSecret := randomHex(32), randomHex(32)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	base := "http://" + addr
	childEnv := func(addr, db string) []string {
		env := serverEnv(
			"OSS_BUCKET="+bucket,
			"OSS_REGION="+region,
			"OSSGATE_ADDR="+addr,
			"OSSGATE_PUBLIC_URL=http://"+addr,
			"OSSGATE_JWT_SECRET="+jwtSecret,
			"OSSGATE_TICKET_SECRET="+ticketSecret,
			"OSSGATE_CALLBACK_KEY_URLS="+keyURL,
			"OSSGATE_RATE_LIMIT=1000000/s,burst=1000000",
			// The callbacks are played by the tool for objects no OSS holds.
			"OSSGATE_CALLBACK_CONFIRM=off",
			"OSSGATE_DB="+db,
		)
		return append(env, o.ossgateEnv...)
	}
	env := childEnv(addr, filepath.Join(tmp, "ossgate.db"))
	ossgate, err := startChild("ossgate", ossgateBin, nil, env, filepath.Join(tmp, "ossgate.log"), plan.serverPrefix())
	if err != nil {
		return nil, err
	}
	defer ossgate.stop(10 * time.Second)
	if err := ossgate.waitReady(ctx, base+"/readyz", 30*time.Second); err != nil {
		return nil, err
	}
	logf("ossgate pid %d on %s, log %s", ossgate.cmd.Process.Pid, addr, ossgate.logPath)
	answerBytes, err := policyAnswerWireSize(ctx, base, jwtSecret)
	if err != nil {
		return nil, err
	}

	// The baseline.
	bport, err := freePort()
	if err != nil {
		return nil, err
	}
	baddr := "127.0.0.1:" + strconv.Itoa(bport)
	baseline, err := startChild("baseline", baselineBin,
		[]string{"-addr", baddr, "-bucket", bucket, "-region", region, "-callback-url", base + "/api/uploads/callback",
			"-floor-bytes", strconv.Itoa(answerBytes)},
		serverEnv(),
		filepath.Join(tmp, "baseline.log"), plan.serverPrefix())
	if err != nil {
		return nil, err
	}
	defer baseline.stop(5 * time.Second)
	if err := baseline.waitReady(ctx, "http://"+baddr+"/healthz", 30*time.Second); err != nil {
		return nil, err
	}
	logf("baseline pid %d on %s", baseline.cmd.Process.Pid, baddr)

	// With -webhooks, the same ossgate again, delivering to the tool.
	var hooks *child
	var hooksBase string
	var recv *hookReceiver
	if o.webhooks {
		secret := newWebhookSecret()
		if recv, err = startHookReceiver(secret); err != nil {
			return nil, err
		}
		defer recv.close()
		hport, err := freePort()
		if err != nil {
			return nil, err
		}
		haddr := "127.0.0.1:" + strconv.Itoa(hport)
		hooksBase = "http://" + haddr
		henv := append(childEnv(haddr, filepath.Join(tmp, "ossgate-webhooks.db")), hookEnv(recv.url, secret)...)
		if hooks, err = startChild("ossgate-webhooks", ossgateBin, nil, henv, filepath.Join(tmp, "ossgate-webhooks.log"), plan.serverPrefix()); err != nil {
			return nil, err
		}
		defer hooks.stop(10 * time.Second)
		if err := hooks.waitReady(ctx, hooksBase+"/readyz", 30*time.Second); err != nil {
			return nil, err
		}
		logf("ossgate with webhooks pid %d on %s, log %s, delivering to %s", hooks.cmd.Process.Pid, haddr, hooks.logPath, recv.url)
	}

	// The published sample app server, if asked for.
	var sample *child
	var saddr string
	if o.sampleDir != "" {
		sampleBin := filepath.Join(tmp, "sample")
		logf("building the sample server from %s", o.sampleDir)
		if err := buildSample(ctx, o.sampleDir, tmp, sampleBin); err != nil {
			return nil, err
		}
		sport, err := freePort()
		if err != nil {
			return nil, err
		}
		saddr = "127.0.0.1:" + strconv.Itoa(sport)
		sample, err = startChild("sample", sampleBin, []string{"-addr", saddr, "-callback-url", base + "/api/uploads/callback"},
			serverEnv(),
			filepath.Join(tmp, "sample.log"), plan.serverPrefix())
		if err != nil {
			return nil, err
		}
		defer sample.stop(5 * time.Second)
		if err := sample.waitReady(ctx, "http://"+saddr+"/token", 30*time.Second); err != nil {
			return nil, err
		}
		logf("sample server pid %d on %s", sample.cmd.Process.Pid, saddr)
	}

	// One JWT per simulated user, minted before any timed phase.
	tokens, err := mintTokens(jwtSecret, o.users)
	if err != nil {
		return nil, err
	}

	rateDesc := "as fast as the connections go"
	if o.rate > 0 {
		rateDesc = fmt.Sprintf("%d requests/s (constant pacer)", o.rate)
	}
	gen := fmt.Sprintf("vegeta v12.13.0 library, %d connections = %d workers", o.conns, o.conns)
	if runner != nil {
		gen = fmt.Sprintf("wrk -t1 -c%d (one event-loop thread) for the phases at full speed; vegeta v12.13.0 library (%d workers) for the callbacks and the paced phase", o.conns, o.conns)
	}
	rep.Settings = []string{
		fmt.Sprintf("load: %s, %s; each phase %v in total, run as %d interleaved slices of %v (rotating order) so that background noise hits all phases alike; %v warm-up per endpoint first",
			gen, rateDesc, o.duration, o.rounds, o.duration/time.Duration(o.rounds), o.warmup),
		fmt.Sprintf("ossgate: child process built from this tree, GOMAXPROCS=1, 127.0.0.1, non-local mode, fake credentials, SQLite in a temp dir, JSON logs to a file, OSSGATE_RATE_LIMIT=1000000/s; %d users with their own HS256 JWT%s", o.users, extraEnvDesc(o.ossgateEnv)),
		fmt.Sprintf("callbacks: one per policy issued before the rounds (at most %d), each a new object, signed MD5withRSA with a %d-bit key served from 127.0.0.1, each sent once", o.maxCallbacks, o.keyBits),
		"baseline: cmd/loadtest/baseline, GOMAXPROCS=1, net/http + encoding/json maps + per-request V4 key derivation, no auth, no validation, no logging; floor: the same process's /floor, a bare net/http handler that reads the request and writes 11 bytes; floor-sized: the same handler writing an answer as large as ossgate's policy answer on the wire",
	}
	if sample != nil {
		rep.Settings = append(rep.Settings, "sample: "+sampleModule+" from "+o.sampleDir+", served as its README shows (GET /token answering Generate()'s JSON: V1 policy + callback, no auth), GOMAXPROCS=1")
	}
	if runner != nil {
		rep.Settings = append(rep.Settings, "wrk phases: p50 and p99 are the request-weighted means of the slices' percentiles, max the largest; errors are wrk's connect/read/write/timeout errors plus answers above 399")
	}

	policyTargeter := func(url string, limit int) vegeta.Targeter {
		headers := make([]http.Header, len(tokens))
		for i, tok := range tokens {
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set("Authorization", "Bearer "+tok)
			headers[i] = h
		}
		var next atomic.Uint64
		body := []byte(policyBody)
		return func(t *vegeta.Target) error {
			i := next.Add(1) - 1
			if limit > 0 && i >= uint64(limit) {
				return vegeta.ErrNoTargets
			}
			*t = vegeta.Target{Method: http.MethodPost, URL: url, Body: body, Header: headers[i%uint64(len(headers))]}
			return nil
		}
	}
	policyWrk := func(path string) []wrkRequest {
		reqs := make([]wrkRequest, len(tokens))
		for i, tok := range tokens {
			reqs[i] = wrkRequest{Method: http.MethodPost, Path: path, Body: policyBody,
				Headers: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}}
		}
		return reqs
	}
	hz := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: base + "/healthz"})
	pt := policyTargeter(base+"/api/uploads/policy", 0)
	bt := policyTargeter("http://"+baddr+"/api/uploads/policy", 0)
	ft := policyTargeter("http://"+baddr+"/floor", 0)
	full := []phaseSpec{
		{id: phaseFloor, label: "POST /floor (bare net/http handler, baseline process)", targeter: ft, server: baseline,
			base: "http://" + baddr, wrk: policyWrk("/floor")},
		{id: phaseFloorSized, label: fmt.Sprintf("POST /floor-sized (the same handler, answering %d bytes like ossgate's policy answer)", answerBytes),
			targeter: policyTargeter("http://"+baddr+"/floor-sized", 0), server: baseline,
			base: "http://" + baddr, wrk: policyWrk("/floor-sized")},
		{id: phaseHealthz, label: "GET /healthz (ossgate)", targeter: hz, server: ossgate,
			base: base, wrk: []wrkRequest{{Method: http.MethodGet, Path: "/healthz"}}},
		{id: phasePolicy, label: "POST /api/uploads/policy (ossgate)", targeter: pt, server: ossgate,
			base: base, wrk: policyWrk("/api/uploads/policy")},
		{id: phaseBaseline, label: "POST policy (baseline net/http)", targeter: bt, server: baseline,
			base: "http://" + baddr, wrk: policyWrk("/api/uploads/policy")},
	}
	if o.webhooks {
		// Both children, healthz and policy; the yardsticks are left out.
		byID := map[string]phaseSpec{}
		for _, sp := range full {
			byID[sp.id] = sp
		}
		full = []phaseSpec{byID[phaseHealthz], byID[phasePolicy],
			{id: phaseHealthzHooks, label: "GET /healthz (ossgate, webhooks on)", targeter: vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: hooksBase + "/healthz"}),
				server: hooks, base: hooksBase, wrk: []wrkRequest{{Method: http.MethodGet, Path: "/healthz"}}},
			{id: phasePolicyHooks, label: "POST /api/uploads/policy (ossgate, webhooks on)", targeter: policyTargeter(hooksBase+"/api/uploads/policy", 0),
				server: hooks, base: hooksBase, wrk: policyWrk("/api/uploads/policy")},
		}
		full[0].label, full[1].label = "GET /healthz (ossgate, webhooks off)", "POST /api/uploads/policy (ossgate, webhooks off)"
	}
	if sample != nil {
		full = append(full, phaseSpec{id: phaseSample, label: "GET /token (published sample app server)", server: sample,
			targeter: vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: "http://" + saddr + "/token"}),
			base:     "http://" + saddr, wrk: []wrkRequest{{Method: http.MethodGet, Path: "/token"}}})
	}
	for i := range full {
		full[i].runner = runner
	}

	// Warm-up, unmeasured.
	for _, sp := range full {
		if o.warmup > 0 {
			sp.conns, sp.rate, sp.duration, sp.server = o.conns, o.rate, o.warmup, nil
			measure(ctx, sp, newAccum(phaseSpec{}))
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Policies for the callback phase, issued by ossgate (unmeasured), then
	// rendered and signed as OSS would.
	var (
		answersMu sync.Mutex
		answers   [][]byte
	)
	prep := newAccum(phaseSpec{id: "prep"})
	if o.maxCallbacks > 0 {
		logf("issuing %d policies for the callback phase", o.maxCallbacks)
		keep := func(r *vegeta.Result) {
			if r.Code == http.StatusOK {
				answersMu.Lock()
				answers = append(answers, r.Body)
				answersMu.Unlock()
			}
		}
		measure(ctx, phaseSpec{targeter: policyTargeter(base+"/api/uploads/policy", o.maxCallbacks), conns: o.conns, duration: 30 * time.Second, keep: keep}, prep)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	signStart := time.Now()
	targets, err := signCallbacks(ctx, answers, ossObject{Bucket: bucket, ETag: "5EB63BBBE01EEED093CB22BB8F5ACDC3", Size: 12345, MimeType: "image/jpeg"}, ossKey, keyURL)
	if err != nil {
		return nil, err
	}
	answers = nil
	logf("signed %d callbacks in %v", len(targets), time.Since(signStart).Round(time.Millisecond))

	// The measured rounds.
	specs := full
	var track *hookTrack
	if len(targets) > 0 {
		specs = append(specs, phaseSpec{id: phaseCallback, label: "POST /api/uploads/callback (ossgate, new object each)", targeter: onceTargeter(targets), server: ossgate})
		if o.webhooks {
			// The same signed callbacks: both children share their secrets,
			// and OSS's signature covers the path, not the host.
			track = newHookTrack()
			specs[len(specs)-1].label = "POST /api/uploads/callback (ossgate, webhooks off)"
			specs = append(specs, phaseSpec{id: phaseCallbackHooks, label: "POST /api/uploads/callback (ossgate, webhooks on)",
				targeter: onceTargeter(retarget(targets, base, hooksBase)), server: hooks, keep: track.keep})
		}
	}
	accs := make([]*accum, len(specs))
	for i := range specs {
		specs[i].conns, specs[i].rate, specs[i].duration = o.conns, o.rate, o.duration/time.Duration(o.rounds)
		accs[i] = newAccum(specs[i])
	}
	for round := range o.rounds {
		logf("round %d/%d", round+1, o.rounds)
		for k := range specs {
			i := (round + k) % len(specs)
			if accs[i].exhausted {
				continue
			}
			if specs[i].id == phaseCallbackHooks {
				track.begin()
			}
			var stopPerf func()
			if o.perfDir != "" && round == 0 {
				if stopPerf, err = perfSlice(o.perfDir, specs[i].id, specs[i].server.cmd.Process.Pid, logf); err != nil {
					return nil, err
				}
			}
			measure(ctx, specs[i], accs[i])
			if stopPerf != nil {
				stopPerf()
			}
			if specs[i].id == phaseCallbackHooks {
				track.end()
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		if n, err := ossgate.peakRSS(); err == nil {
			logf("ossgate peak RSS so far %s", fmtMiB(n))
		}
	}
	for _, a := range accs {
		rep.Phases = append(rep.Phases, a.result())
	}
	for i, sp := range specs {
		if cp := &rep.Phases[i]; (sp.id == phaseCallback || sp.id == phaseCallbackHooks) && accs[i].exhausted {
			cp.Note = fmt.Sprintf("all %d pre-signed callbacks were sent after %v of the %v (raise -max-callbacks for a full phase; rps is over the time it ran)",
				len(targets), cp.Duration.Round(time.Millisecond), o.duration)
		}
	}
	if track != nil {
		const wait = 30 * time.Second
		logf("waiting up to %v for the last webhook deliveries", wait)
		waitDelivered(track, recv, wait)
		rep.Webhooks = summarize(track, recv)
		if n, err := hooks.peakRSS(); err == nil {
			rep.Webhooks.HooksRSS = n
		}
		rep.Settings = append(rep.Settings, "webhooks: a second ossgate child, the same build, settings and secrets, plus OSSGATE_WEBHOOK_URL and _SECRET, delivering to a receiver in this tool (on the generator's CPU) that checks each delivery with webhook/webhooktest's verifier (written from the Standard Webhooks specification), dedupes by webhook-id and notes when each arrived; both children get the same signed callbacks")
		if o.pacedLoad > 0 && o.rate == 0 {
			used := 0 // callbacks the rounds sent to either child
			for i, sp := range specs {
				if sp.id == phaseCallback || sp.id == phaseCallbackHooks {
					used = max(used, int(rep.Phases[i].Requests))
				}
			}
			p := pacedHooks{off: ossgate, on: hooks, offBase: base, onBase: hooksBase, targets: targets[used:],
				load: o.pacedLoad, conns: o.conns, duration: o.duration, rounds: o.rounds, recv: recv, perfDir: o.perfDir}
			phases, paced := p.run(ctx, rep, logf)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.Phases = append(rep.Phases, phases...)
			rep.Webhooks.Paced = paced
		}
	}
	if prep.res.Errors > 0 {
		rep.Settings = append(rep.Settings, fmt.Sprintf("WARNING: %d errors while issuing the policies for the callbacks", prep.res.Errors))
	}

	// Latency of the policy endpoint at 64 connections, paced below saturation.
	pp, _ := rep.phase(phasePolicy)
	if o.pacedLoad > 0 && o.rate == 0 && pp.RPS > 0 && !o.webhooks {
		r := max(int(pp.RPS*o.pacedLoad), 1)
		logf("policy paced at %d/s", r)
		spec := phaseSpec{id: phasePaced, label: fmt.Sprintf("POST /api/uploads/policy (ossgate), paced at %.0f%% of its max", o.pacedLoad*100),
			targeter: pt, conns: targetP99Conns, rate: r, duration: o.duration, server: ossgate}
		a := newAccum(spec)
		measure(ctx, spec, a)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rep.Phases = append(rep.Phases, a.result())
	}

	if n, err := ossgate.peakRSS(); err == nil {
		rep.OSSGateRSS = n
	} else {
		logf("ossgate peak RSS: %v", err)
	}
	if mem, err := goMemory(ctx, base+"/metrics"); err == nil {
		rep.OSSGateGoMem = mem
	} else {
		logf("ossgate /metrics: %v", err)
	}
	if n, err := baseline.peakRSS(); err == nil {
		rep.BaselineRSS = n
	}
	logf("key server was asked %d times; done in %v", keyHits.Load(), time.Since(rep.Started).Round(time.Second))
	return rep, nil
}

// phaseSpec is one attack: a phase's slice, a warm-up, or a preparation.
type phaseSpec struct {
	id, label string
	targeter  vegeta.Targeter
	conns     int
	rate      int // 0 = max
	duration  time.Duration
	keep      func(*vegeta.Result) // sees every result
	server    *child               // whose CPU time the phase is charged

	// With a runner, a phase at full speed (rate 0) is driven by wrk with
	// these requests against base instead of by vegeta.
	runner *wrkRunner
	base   string
	wrk    []wrkRequest
}

// newAttacker returns an attacker with exactly conns workers and at most
// conns connections, over a transport of its own; the caller closes its
// idle connections when the attack is over, so that every slice of a phase
// meets the server with conns connections, not the sum of all slices'.
func newAttacker(conns int) (*vegeta.Attacker, *http.Transport) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     30 * time.Second,
	}
	n := uint64(conns)
	atk := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Transport: tr, Timeout: 10 * time.Second}),
		vegeta.Workers(n), vegeta.MaxWorkers(n),
	)
	return atk, tr
}

// accum sums a phase over its slices: latencies over all results, rps
// over the sum of the slices' wall times (not the time between them).
type accum struct {
	res       phaseResult
	m         vegeta.Metrics
	wall      time.Duration
	cpu       time.Duration // the server's CPU time during the slices
	cpuErr    error
	exhausted bool // the targeter ran out

	// wrk slices: requests, and percentiles weighted by requests
	wrk            bool
	wrkRequests    uint64
	p50Sum, p99Sum float64 // µs × requests
	max            time.Duration
}

func newAccum(s phaseSpec) *accum {
	return &accum{res: phaseResult{ID: s.id, Label: s.label, Conns: s.conns, Rate: s.rate, Codes: map[string]int{}}}
}

func (a *accum) add(r *vegeta.Result) {
	a.m.Add(r)
	a.res.Codes[strconv.Itoa(int(r.Code))]++
	if r.Error != "" || r.Code < 200 || r.Code > 299 {
		a.res.Errors++
		if len(a.res.Samples) < 3 {
			a.res.Samples = append(a.res.Samples, errorSample(r))
		}
	}
}

// addWrk adds one wrk slice.
func (a *accum) addWrk(s wrkSummary) {
	a.wrk = true
	a.wrkRequests += s.Requests
	a.res.Errors += s.errors()
	a.wall += time.Duration(s.DurationUS) * time.Microsecond
	a.p50Sum += float64(s.P50US) * float64(s.Requests)
	a.p99Sum += float64(s.P99US) * float64(s.Requests)
	a.max = max(a.max, time.Duration(s.MaxUS)*time.Microsecond)
	if e := s.errors(); e > 0 {
		a.res.Codes["wrk errors"] += int(e)
		if len(a.res.Samples) < 3 {
			a.res.Samples = append(a.res.Samples, fmt.Sprintf("connect %d, read %d, write %d, status>399 %d, timeout %d", s.Connect, s.Read, s.Write, s.Status, s.Timeout))
		}
	}
}

func (a *accum) result() phaseResult {
	a.m.Close()
	pr := a.res
	pr.Requests = a.m.Requests
	pr.P50, pr.P99, pr.Max = a.m.Latencies.P50, a.m.Latencies.P99, a.m.Latencies.Max
	if a.wrk {
		pr.Requests += a.wrkRequests
		if a.wrkRequests > 0 {
			pr.P50 = time.Duration(a.p50Sum/float64(a.wrkRequests)) * time.Microsecond
			pr.P99 = time.Duration(a.p99Sum/float64(a.wrkRequests)) * time.Microsecond
		}
		pr.Max = a.max
	}
	pr.Duration = a.wall
	if a.wall > 0 && pr.Requests >= pr.Errors {
		pr.RPS = float64(pr.Requests-pr.Errors) / a.wall.Seconds()
	}
	if a.cpuErr == nil && pr.Requests > 0 {
		pr.CPUPerReq = a.cpu / time.Duration(pr.Requests)
	}
	return pr
}

// measure runs one attack into a. It stops early when ctx ends or the
// targeter runs out of targets.
func measure(ctx context.Context, s phaseSpec, a *accum) {
	if s.runner != nil && s.wrk != nil && s.rate == 0 {
		measureWrk(ctx, s, a)
		return
	}
	atk, tr := newAttacker(s.conns)
	defer tr.CloseIdleConnections()
	var p vegeta.Pacer = vegeta.ConstantPacer{} // zero: as fast as possible
	if s.rate > 0 {
		p = vegeta.ConstantPacer{Freq: s.rate, Per: time.Second}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()
	var cpu0 time.Duration
	if s.server != nil {
		var err error
		if cpu0, err = s.server.cpuTime(); err != nil {
			a.cpuErr = err
		}
	}
	var first, last time.Time
	for r := range atk.Attack(s.targeter, p, s.duration, s.id) {
		if r.Error == vegeta.ErrNoTargets.Error() {
			a.exhausted = true
			continue
		}
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if end := r.End(); end.After(last) {
			last = end
		}
		a.add(r)
		if s.keep != nil {
			s.keep(r)
		}
	}
	if !first.IsZero() {
		a.wall += last.Sub(first)
	}
	if s.server != nil && a.cpuErr == nil {
		cpu1, err := s.server.cpuTime()
		a.cpu += cpu1 - cpu0
		a.cpuErr = err
	}
}

// measureWrk runs one wrk slice into a.
func measureWrk(ctx context.Context, s phaseSpec, a *accum) {
	var cpu0 time.Duration
	if s.server != nil {
		var err error
		if cpu0, err = s.server.cpuTime(); err != nil {
			a.cpuErr = err
		}
	}
	sum, err := s.runner.run(ctx, s.id, s.base, s.wrk, s.conns, s.duration)
	if s.server != nil && a.cpuErr == nil {
		cpu1, err := s.server.cpuTime()
		a.cpu += cpu1 - cpu0
		a.cpuErr = err
	}
	if err != nil {
		a.res.Errors++
		if len(a.res.Samples) < 3 {
			a.res.Samples = append(a.res.Samples, err.Error())
		}
		return
	}
	a.addWrk(sum)
}

func errorSample(r *vegeta.Result) string {
	s := fmt.Sprintf("%d %s", r.Code, r.Error)
	if len(r.Body) > 0 {
		b := string(r.Body)
		if len(b) > 160 {
			b = b[:160] + "…"
		}
		s += " " + strings.TrimSpace(b)
	}
	return s
}

// goMemory reads the Go runtime's memory figures from a Prometheus
// /metrics page, to tell Go's share of the RSS from the rest.
func goMemory(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	return parseGoMemory(string(body)), nil
}

// goMemMetrics are the series parseGoMemory keeps.
var goMemMetrics = []string{
	"go_memstats_sys_bytes",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_heap_idle_bytes",
	"go_memstats_heap_released_bytes",
	"go_memstats_stack_inuse_bytes",
	"go_goroutines",
}

func parseGoMemory(text string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		for _, m := range goMemMetrics {
			if name == m {
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					out[m] = v
				}
			}
		}
	}
	return out
}

// onceTargeter hands out each target once, then ErrNoTargets.
func onceTargeter(ts []vegeta.Target) vegeta.Targeter {
	var next atomic.Int64
	return func(t *vegeta.Target) error {
		i := next.Add(1) - 1
		if i >= int64(len(ts)) {
			return vegeta.ErrNoTargets
		}
		*t = ts[i]
		return nil
	}
}

// signCallbacks renders and signs one callback per policy answer, on all
// CPUs. Answers that cannot be turned into a callback are an error: the
// policy phase counted them as successes.
func signCallbacks(ctx context.Context, answers [][]byte, o ossObject, key *rsa.PrivateKey, keyURL string) ([]vegeta.Target, error) {
	targets := make([]vegeta.Target, len(answers))
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(answers)) {
					return
				}
				t, err := callbackTarget(answers[i], o, key, keyURL)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("policy answer %d: %w", i, err) })
					return
				}
				targets[i] = t
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return targets, ctx.Err()
}

// mintTokens makes one HS256 JWT per user, valid for an hour.
func mintTokens(secret string, users int) ([]string, error) {
	now := time.Now()
	out := make([]string, users)
	for i := range out {
		claims := jwt.MapClaims{
			"sub": fmt.Sprintf("user%04d", i),
			"iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(),
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// moduleRoot is the directory of the go.mod the tool is run in.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run loadtest inside the ossgate module (go run ./cmd/loadtest)")
	}
	return filepath.Dir(gomod), nil
}

func extraEnvDesc(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return "; extra environment: " + strings.Join(env, " ")
}

// cleanEnv is this process's environment without ossgate's and OSS's own
// variables, so the children see only what the tool sets.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OSSGATE_") || strings.HasPrefix(kv, "OSS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// serverEnv is the environment of every server the tool starts: cleanEnv,
// one core (GOMAXPROCS=1), the fake OSS credentials, and extra.
func serverEnv(extra ...string) []string {
	env := append(cleanEnv(), "GOMAXPROCS=1",
		"OSS_ACCESS_KEY_ID=LTAI5tLoadTestFakeKeyId", "OSS_ACCESS_KEY_SECRET=LoadTestFakeSecret0123456789abcdef")
	return append(env, extra...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// policyAnswerWireSize is how many bytes one policy answer of ossgate takes
// on the wire (status line, headers, body), for the floor of that size.
func policyAnswerWireSize(ctx context.Context, base, jwtSecret string) (int, error) {
	tokens, err := mintTokens(jwtSecret, 1)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/uploads/policy", strings.NewReader(policyBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokens[0])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("ossgate answered the policy request with %s: %.200s", resp.Status, body)
	}
	var head bytes.Buffer
	resp.Header.Write(&head)
	return len("HTTP/1.1 200 OK\r\n") + head.Len() + len("\r\n") + len(body), nil
}
