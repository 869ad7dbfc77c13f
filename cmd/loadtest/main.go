// Command loadtest measures ossgate's throughput and latency on this machine,
// in one bounded run over loopback, and checks the "Prove speed" targets.
//
//	go run ./cmd/loadtest [-duration 10s] [-conns 64] [-rate 0] [-out result.md]
//
// It builds ossgate and bench/baseline into a temporary directory and starts
// them as child processes on 127.0.0.1: ossgate in non-local mode with
// made-up OSS credentials, SQLite in the temporary directory, its logs in a
// file there, and OSSGATE_CALLBACK_KEY_HOSTS pointing at a key server the
// tool runs itself, serving the public half of an RSA key it generated.
// Then it attacks with vegeta, each phase for -duration after a -warmup:
//
//  1. GET /healthz (the cost of Echo, middleware and logging alone);
//  2. POST /api/uploads/policy with a fresh HS256 JWT per simulated user
//     (-users tokens minted up front, used round-robin);
//  3. the same request against the baseline, a net/http server that signs the
//     same V4 policy the way Alibaba's sample servers do, without auth;
//  4. POST /api/uploads/callback: each request a new object. The tool takes
//     the policies ossgate issued in phase 2 (at most -max-callbacks), renders
//     each callback body and signs it with MD5withRSA as OSS does, then
//     replays each once;
//  5. the policy endpoint again at 64 connections paced at -paced-load × the
//     rate of phase 2, for its latency at a load the machine sustains.
//
// It prints a markdown table (rps, p50, p99, max, errors), the ratios
// between phases of this run, the children's peak RSS, and PASS/MISS per
// target. It exits non-zero only when the setup fails, never for a missed
// target. Children are stopped on exit and on Ctrl-C.
package main

import (
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
	out          string
	keep         bool
	ossgateEnv   []string // extra KEY=VALUE for the ossgate child (experiments: GOGC, GOMAXPROCS…)
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
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each phase (not the callback phase)")
	fs.IntVar(&o.conns, "conns", 64, "concurrent connections (= vegeta workers) per phase")
	fs.IntVar(&o.rate, "rate", 0, "requests per second per phase; 0 = as fast as the connections go")
	fs.IntVar(&o.users, "users", 1000, "simulated users: one JWT each, used round-robin")
	fs.IntVar(&o.maxCallbacks, "max-callbacks", 40000, "most callbacks pre-signed for the callback phase (RSA signing is slow)")
	fs.IntVar(&o.keyBits, "key-bits", 1024, "size of the fake OSS callback RSA key (ossgate accepts 1024..16384)")
	fs.Float64Var(&o.pacedLoad, "paced-load", 0.5, "paced policy phase at this fraction of the measured max rate; 0 skips it")
	fs.StringVar(&o.out, "out", "", "also write the markdown report to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, logs, database)")
	var extraEnv envList
	fs.Var(&extraEnv, "ossgate-env", "extra KEY=VALUE in ossgate's environment, e.g. GOGC=400 (repeatable; for experiments)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.ossgateEnv = extraEnv
	if o.duration <= 0 || o.duration > 5*time.Minute || o.conns < 1 || o.conns > 4096 || o.users < 1 ||
		o.maxCallbacks < 0 || o.rate < 0 || o.pacedLoad < 0 || o.pacedLoad > 1 || o.warmup < 0 {
		fmt.Fprintln(stderr, "loadtest: a flag is out of range (see -h)")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadtest(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	rep.Command = "go run ./cmd/loadtest " + strings.Join(args, " ")
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

	tmp, err := os.MkdirTemp("", "ossgate-loadtest-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	// Build both servers.
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	ossgateBin, baselineBin := filepath.Join(tmp, "ossgate"), filepath.Join(tmp, "baseline")
	for _, b := range []struct{ out, pkg string }{{ossgateBin, "."}, {baselineBin, "./bench/baseline"}} {
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
	env := append(cleanEnv(),
		"OSS_ACCESS_KEY_ID=LTAI5tLoadTestFakeKeyId",
		"OSS_ACCESS_KEY_SECRET=LoadTestFakeSecret0123456789abcdef",
		"OSS_BUCKET="+bucket,
		"OSS_REGION="+region,
		"OSSGATE_ADDR="+addr,
		"OSSGATE_PUBLIC_URL="+base,
		"OSSGATE_JWT_SECRET="+jwtSecret,
		"OSSGATE_TICKET_SECRET="+ticketSecret,
		"OSSGATE_CALLBACK_KEY_HOSTS="+keyHost,
		"OSSGATE_RATE_LIMIT=1000000/s,burst=1000000",
		"OSSGATE_DB="+filepath.Join(tmp, "ossgate.db"),
	)
	env = append(env, o.ossgateEnv...)
	ossgate, err := startChild("ossgate", ossgateBin, nil, env, filepath.Join(tmp, "ossgate.log"))
	if err != nil {
		return nil, err
	}
	defer ossgate.stop(10 * time.Second)
	if err := ossgate.waitReady(ctx, base+"/readyz", 30*time.Second); err != nil {
		return nil, err
	}
	logf("ossgate pid %d on %s, log %s", ossgate.cmd.Process.Pid, addr, ossgate.logPath)

	// The baseline.
	bport, err := freePort()
	if err != nil {
		return nil, err
	}
	baddr := "127.0.0.1:" + strconv.Itoa(bport)
	baseline, err := startChild("baseline", baselineBin,
		[]string{"-addr", baddr, "-bucket", bucket, "-region", region, "-callback-url", base + "/api/uploads/callback"},
		append(cleanEnv(), "OSS_ACCESS_KEY_ID=LTAI5tLoadTestFakeKeyId", "OSS_ACCESS_KEY_SECRET=LoadTestFakeSecret0123456789abcdef"),
		filepath.Join(tmp, "baseline.log"))
	if err != nil {
		return nil, err
	}
	defer baseline.stop(5 * time.Second)
	if err := baseline.waitReady(ctx, "http://"+baddr+"/healthz", 30*time.Second); err != nil {
		return nil, err
	}
	logf("baseline pid %d on %s", baseline.cmd.Process.Pid, baddr)

	// One JWT per simulated user, minted before any timed phase.
	tokens, err := mintTokens(jwtSecret, o.users)
	if err != nil {
		return nil, err
	}

	rateDesc := "as fast as the connections go (vegeta rate 0)"
	if o.rate > 0 {
		rateDesc = fmt.Sprintf("%d requests/s (constant pacer)", o.rate)
	}
	rep.Settings = []string{
		fmt.Sprintf("load: vegeta v12.13.0 library, %d connections = %d workers, %s, %v per phase after a %v warm-up (none for callbacks)",
			o.conns, o.conns, rateDesc, o.duration, o.warmup),
		fmt.Sprintf("ossgate: child process built from this tree, 127.0.0.1, non-local mode, fake credentials, SQLite in a temp dir, JSON logs to a file, OSSGATE_RATE_LIMIT=1000000/s; %d users with their own HS256 JWT%s", o.users, extraEnvDesc(o.ossgateEnv)),
		fmt.Sprintf("callbacks: each a new object from a policy of the policy phase, signed MD5withRSA with a %d-bit key served from 127.0.0.1", o.keyBits),
		"baseline: bench/baseline, net/http + encoding/json maps + per-request V4 key derivation, no auth, no validation, no logging",
	}

	policyTargeter := func(url string) vegeta.Targeter {
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
			*t = vegeta.Target{Method: http.MethodPost, URL: url, Body: body, Header: headers[i%uint64(len(headers))]}
			return nil
		}
	}
	// 1. healthz
	logf("phase healthz")
	hz := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: base + "/healthz"})
	if err := warm(ctx, hz, o, nil); err != nil {
		return nil, err
	}
	ph := attack(ctx, phaseSpec{id: phaseHealthz, label: "GET /healthz (ossgate)", targeter: hz, conns: o.conns, rate: o.rate, duration: o.duration})
	rep.Phases = append(rep.Phases, ph)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// 2. policy, keeping answers for the callback phase
	logf("phase policy")
	var (
		answersMu sync.Mutex
		answers   [][]byte
	)
	keep := func(r *vegeta.Result) {
		if r.Code != http.StatusOK {
			return
		}
		answersMu.Lock()
		if len(answers) < o.maxCallbacks {
			answers = append(answers, r.Body)
		}
		answersMu.Unlock()
	}
	pt := policyTargeter(base + "/api/uploads/policy")
	if err := warm(ctx, pt, o, keep); err != nil {
		return nil, err
	}
	pp := attack(ctx, phaseSpec{id: phasePolicy, label: "POST /api/uploads/policy (ossgate)", targeter: pt, conns: o.conns, rate: o.rate, duration: o.duration, keep: keep})
	rep.Phases = append(rep.Phases, pp)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// 3. baseline
	logf("phase baseline")
	bt := policyTargeter("http://" + baddr + "/api/uploads/policy")
	if err := warm(ctx, bt, o, nil); err != nil {
		return nil, err
	}
	rep.Phases = append(rep.Phases, attack(ctx, phaseSpec{id: phaseBaseline, label: "POST policy (baseline net/http)", targeter: bt, conns: o.conns, rate: o.rate, duration: o.duration}))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// 4. callbacks: render and sign (untimed), then replay each once.
	logf("signing %d callbacks as OSS would", len(answers))
	signStart := time.Now()
	targets, err := signCallbacks(ctx, answers, ossObject{Bucket: bucket, ETag: "5EB63BBBE01EEED093CB22BB8F5ACDC3", Size: 12345, MimeType: "image/jpeg"}, ossKey, keyURL)
	if err != nil {
		return nil, err
	}
	answers = nil
	logf("signed %d callbacks in %v; phase callback", len(targets), time.Since(signStart).Round(time.Millisecond))
	cp := attack(ctx, phaseSpec{id: phaseCallback, label: "POST /api/uploads/callback (ossgate, new object each)", targeter: onceTargeter(targets), conns: o.conns, rate: o.rate, duration: o.duration})
	if cp.Note == "" && uint64(len(targets)) == cp.Requests && cp.Duration < o.duration*9/10 {
		cp.Note = fmt.Sprintf("all %d pre-signed callbacks sent in %v (raise -max-callbacks for a longer phase)", len(targets), cp.Duration.Round(time.Millisecond))
	}
	rep.Phases = append(rep.Phases, cp)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// 5. policy latency at 64 connections and a sustainable rate.
	if o.pacedLoad > 0 && o.rate == 0 && pp.RPS > 0 {
		r := int(pp.RPS * o.pacedLoad)
		if r < 1 {
			r = 1
		}
		logf("phase policy paced at %d/s", r)
		rep.Phases = append(rep.Phases, attack(ctx, phaseSpec{id: phasePaced,
			label:    fmt.Sprintf("POST /api/uploads/policy (ossgate) at %.0f%% of max", o.pacedLoad*100),
			targeter: pt, conns: targetP99Conns, rate: r, duration: o.duration}))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}

	if n, err := ossgate.peakRSS(); err == nil {
		rep.OSSGateRSS = n
	} else {
		logf("ossgate peak RSS: %v", err)
	}
	if n, err := baseline.peakRSS(); err == nil {
		rep.BaselineRSS = n
	}
	logf("key server was asked %d times", keyHits.Load())
	return rep, nil
}

// phaseSpec is one timed attack.
type phaseSpec struct {
	id, label string
	targeter  vegeta.Targeter
	conns     int
	rate      int // 0 = max
	duration  time.Duration
	keep      func(*vegeta.Result) // sees every successful or failed result
}

func newAttacker(conns int) *vegeta.Attacker {
	n := uint64(conns)
	return vegeta.NewAttacker(
		vegeta.Workers(n), vegeta.MaxWorkers(n),
		vegeta.Connections(conns), vegeta.MaxConnections(conns),
		vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second),
	)
}

// warm runs the targeter for the warm-up time, measuring nothing.
func warm(ctx context.Context, tr vegeta.Targeter, o options, keep func(*vegeta.Result)) error {
	if o.warmup <= 0 {
		return nil
	}
	attack(ctx, phaseSpec{targeter: tr, conns: o.conns, rate: o.rate, duration: o.warmup, keep: keep})
	return ctx.Err()
}

// attack runs one phase and summarises it. It stops early when ctx ends or
// the targeter runs out of targets.
func attack(ctx context.Context, s phaseSpec) phaseResult {
	atk := newAttacker(s.conns)
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
	pr := phaseResult{ID: s.id, Label: s.label, Conns: s.conns, Rate: s.rate, Codes: map[string]int{}}
	var m vegeta.Metrics
	exhausted := false
	for r := range atk.Attack(s.targeter, p, s.duration, s.id) {
		if r.Error == vegeta.ErrNoTargets.Error() {
			exhausted = true
			continue
		}
		m.Add(r)
		pr.Codes[strconv.Itoa(int(r.Code))]++
		if r.Error != "" || r.Code < 200 || r.Code > 299 {
			pr.Errors++
			if len(pr.Samples) < 3 {
				pr.Samples = append(pr.Samples, errorSample(r))
			}
		}
		if s.keep != nil {
			s.keep(r)
		}
	}
	m.Close()
	pr.Requests = m.Requests
	pr.Duration = m.Duration + m.Wait
	if pr.Duration > 0 {
		pr.RPS = float64(m.Requests-pr.Errors) / pr.Duration.Seconds()
	}
	pr.P50, pr.P99, pr.Max = m.Latencies.P50, m.Latencies.P99, m.Latencies.Max
	if exhausted {
		pr.Note = fmt.Sprintf("ran out of targets after %v", pr.Duration.Round(time.Millisecond))
	}
	return pr
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
