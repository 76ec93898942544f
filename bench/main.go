// Command bench measures what Airlock's proxy modes cost on top of talking to an MCP
// server directly, and compares them with a bare stdio relay and with the popular
// stdio-to-HTTP bridges (supergateway, mcp-proxy). scripts/bench.sh builds and runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/airlock-mcp/airlock/bench/payload"
)

type sizeSpec struct {
	name          string
	bytes         int
	warm, seq, cc int // warm-up calls, sequential calls, calls with 16 in flight
	peerSeq       int // sequential and x16 calls for the (slower) node peers
}

// The counts for Airlock and the Go baselines give each figure a few seconds of calls: a
// 64 KiB call costs the echo server ~6 ms of CPU, and its cost alone varies by ±10 %
// from run to run on this machine, so shorter runs measured the server more than the proxy.
var sizes = []sizeSpec{
	{"5 B", 5, 300, 3000, 10000, 1000},
	{"64 KiB", 64 << 10, 40, 1000, 1000, 300},
	{"1 MiB", 1 << 20, 10, 100, 200, 40},
}

const inflight = 16

type modeKind int

const (
	kindStdio modeKind = iota
	kindHTTP
)

type mode struct {
	name   string
	kind   modeKind
	argv   []string // stdio: the command the client spawns; HTTP: the server to start
	url    string   // HTTP: endpoint, with %d for the port
	port   int
	sizes  []string // which sizes to run (nil: all)
	startN int      // start-up repetitions
	rssOf  string   // what the RSS column measures ("" for none)
	peer   bool     // a node bridge: fewer iterations
}

type result struct {
	mode, size      string
	n               int
	p50, p95, p99   time.Duration
	seqRate, ccRate float64
	ccN             int
	err             string
	// timeouts counts calls that got no answer in 30 s and were left out (the go-sdk echo
	// server now and then stalls one call, with or without a proxy in front of it).
	timeouts int
}

type modeStats struct {
	startup time.Duration // median spawn -> initialize response
	startN  int
	rss     int64
	rssOf   string
	err     string
}

var (
	flagAirlock = flag.String("airlock", "bench/.bin/airlock", "airlock binary")
	flagEcho    = flag.String("echo", "bench/.bin/echoserver", "echo server binary")
	flagRelay   = flag.String("relay", "bench/.bin/relay", "bare relay binary")
	flagHTTP    = flag.String("httprelay", "bench/.bin/httprelay", "bare HTTP relay binary (the floor for HTTP bridges)")
	flagNPM     = flag.String("npm", "bench/.npm/node_modules", "node_modules holding supergateway and mcp-proxy")
	flagOut     = flag.String("out", "bench/results.md", "markdown results file")
	flagLogs    = flag.String("logs", "bench/.bin/logs", "directory for the processes' stderr")
	flagModes   = flag.String("modes", "", "comma-separated subset of modes to run (default all)")
	flagSizes   = flag.String("sizes", "", "comma-separated subset of sizes to run, e.g. \"5 B,64 KiB\" (default all)")
	flagQuick   = flag.Bool("quick", false, "10x fewer iterations (smoke test)")
)

var airlockHome string

func main() {
	flag.Parse()
	abs := func(p *string) { a, _ := filepath.Abs(*p); *p = a }
	for _, p := range []*string{flagAirlock, flagEcho, flagRelay, flagHTTP, flagNPM, flagOut, flagLogs} {
		abs(p)
	}
	if *flagQuick {
		for i := range sizes {
			sizes[i].warm, sizes[i].seq, sizes[i].cc = max(sizes[i].warm/10, 5), max(sizes[i].seq/10, 20), max(sizes[i].cc/10, 32)
			sizes[i].peerSeq = max(sizes[i].peerSeq/10, 20)
		}
	}
	if *flagSizes != "" {
		var sel []sizeSpec
		for _, sz := range sizes {
			if strings.Contains(","+*flagSizes+",", ","+sz.name+",") {
				sel = append(sel, sz)
			}
		}
		sizes = sel
	}
	os.MkdirAll(*flagLogs, 0o755)
	var err error
	airlockHome, err = os.MkdirTemp("", "airlock-bench-home-")
	must(err)
	defer os.RemoveAll(airlockHome)
	os.Chmod(airlockHome, 0o700)
	srv := map[string]any{"mcpServers": map[string]any{"echo": map[string]any{"command": *flagEcho, "args": []string{}}}}
	b, _ := json.Marshal(srv)
	must(os.WriteFile(filepath.Join(airlockHome, "servers.json"), b, 0o600))
	// Airlock asks a person before it first launches a server; pre-approve the echo
	// server both as "airlock wrap --name echo" runs it and as servers.json defines it.
	// The echo tool itself is tier 0 (a read) under the default policy: no approval,
	// but every call is written to the decision log, as for a real user.
	for _, args := range [][]string{{"trust", "--name", "echo", "--", *flagEcho}, {"trust", "echo"}} {
		cmd := exec.Command(*flagAirlock, args...)
		cmd.Env = env()
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: airlock %s: %v: %s\n", strings.Join(args, " "), err, out)
		}
	}

	echo := *flagEcho
	sg := filepath.Join(*flagNPM, "supergateway", "dist", "index.js")
	mp := resolveBin(filepath.Join(*flagNPM, ".bin", "mcp-proxy"))
	sgBin := resolveBin(filepath.Join(*flagNPM, ".bin", "supergateway"))
	if sgBin != "" {
		sg = sgBin
	}
	modes := []mode{
		{name: "direct", kind: kindStdio, argv: []string{echo}, startN: 21, rssOf: "echo server"},
		{name: "bare relay", kind: kindStdio, argv: []string{*flagRelay, echo}, startN: 21, rssOf: "relay"},
		{name: "nonblock relay", kind: kindStdio, argv: []string{*flagRelay, "-nonblock", echo}, startN: 7, rssOf: "relay"},
		{name: "airlock wrap", kind: kindStdio, argv: []string{*flagAirlock, "wrap", "--name", "echo", "--", echo}, startN: 21, rssOf: "airlock"},
		{name: "airlock serve", kind: kindHTTP, argv: []string{*flagAirlock, "serve", "--addr", "127.0.0.1:%d", "--no-token"},
			url: "http://127.0.0.1:%d/mcp/echo", startN: 7, rssOf: "airlock"},
		{name: "http floor", kind: kindHTTP, argv: []string{*flagHTTP, "127.0.0.1:%d", echo},
			url: "http://127.0.0.1:%d/mcp", startN: 7, rssOf: "relay"},
		{name: "supergateway", kind: kindHTTP, argv: []string{"node", sg, "--stdio", echo, "--outputTransport", "streamableHttp",
			"--stateful", "--port", "%d", "--logLevel", "none"}, url: "http://127.0.0.1:%d/mcp", startN: 2, rssOf: "node", peer: true},
		{name: "mcp-proxy", kind: kindHTTP, argv: []string{"node", mp, "--host", "127.0.0.1", "--port", "%d", "--server", "stream", "--", echo},
			url: "http://127.0.0.1:%d/mcp", startN: 2, rssOf: "node", peer: true},
	}
	if *flagModes != "" {
		want := map[string]bool{}
		for _, m := range strings.Split(*flagModes, ",") {
			want[strings.TrimSpace(m)] = true
		}
		var sel []mode
		for _, m := range modes {
			if want[m.name] {
				sel = append(sel, m)
			}
		}
		modes = sel
	}

	began = time.Now()
	load0 := loadavg()
	stats := map[string]*modeStats{}
	for _, m := range modes {
		stats[m.name] = &modeStats{rssOf: m.rssOf}
	}
	// Everything is interleaved: each round visits every mode, so background load on the
	// machine (builds, tests) hits all modes alike instead of whichever ran at that moment.
	fmt.Fprintf(os.Stderr, "== start-up (interleaved rounds)\n")
	measureStartups(modes, stats)
	fmt.Fprintf(os.Stderr, "== sessions\n")
	var sessions []*session
	for _, m := range modes {
		ss := openSession(m)
		if ss.err != nil {
			fmt.Fprintf(os.Stderr, "   %s: %v\n", m.name, ss.err)
			stats[m.name].err = ss.err.Error()
		}
		sessions = append(sessions, ss)
	}
	var results []result
	for _, sz := range sizes {
		fmt.Fprintf(os.Stderr, "== %s\n", sz.name)
		results = append(results, runSize(sessions, sz)...)
	}
	for _, ss := range sessions {
		if ss.pid > 0 {
			stats[ss.m.name].rss = vmHWM(ss.pid)
		}
		if ss.stop != nil {
			ss.stop()
		}
	}
	report := render(modes, results, stats, time.Since(began), load0, loadavg())
	fmt.Print(report)
	must(os.WriteFile(*flagOut, []byte(report), 0o644))
	fmt.Fprintf(os.Stderr, "wrote %s\n", *flagOut)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func resolveBin(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return ""
	}
	return r
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func withPort(argv []string, port int) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if strings.Contains(a, "%d") {
			a = fmt.Sprintf(a, port)
		}
		out[i] = a
	}
	return out
}

func env() []string {
	return append(os.Environ(), "AIRLOCK_HOME="+airlockHome, "NODE_ENV=production")
}

// runEnv is env plus, when BENCH_CPUPROFILE_DIR is set, where the measured run's airlock
// (bench/airlockprof) and echo server write their CPU profiles.
func runEnv(m mode) []string {
	e := env()
	if dir := os.Getenv("BENCH_CPUPROFILE_DIR"); dir != "" {
		base := filepath.Join(dir, strings.ReplaceAll(m.name, " ", "-"))
		e = append(e, "BENCH_CPUPROFILE="+base+".prof", "BENCH_ECHO_CPUPROFILE="+base+".echo.prof")
	}
	return e
}

func logFile(m mode, what string) io.Writer {
	name := strings.ReplaceAll(m.name, " ", "-") + "." + what + ".log"
	f, err := os.OpenFile(filepath.Join(*flagLogs, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return io.Discard
	}
	return f
}

// httpServer is a started HTTP proxy process.
type httpServer struct {
	cmd  *exec.Cmd
	url  string
	port int
}

func startHTTPServer(m mode, environ []string, stderr io.Writer) (*httpServer, error) {
	port := freePort()
	argv := withPort(m.argv, port)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = environ
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so we can end its children too
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &httpServer{cmd: cmd, url: fmt.Sprintf(m.url, port), port: port}, nil
}

// waitListening polls until the port accepts connections.
func (s *httpServer) waitListening(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := fmt.Sprintf("127.0.0.1:%d", s.port)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("nothing listening on %s after %s", addr, timeout)
}

func (s *httpServer) stop() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	ch := make(chan struct{})
	go func() { s.cmd.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-ch
	}
	// Make sure the process group (the echo servers) is gone too.
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// measureStartups records, per mode, the median time from spawning the mode's process
// to receiving the initialize response. For HTTP modes that includes waiting for the
// port to listen. Rounds visit every mode in turn.
func measureStartups(modes []mode, stats map[string]*modeStats) {
	ds := map[string][]time.Duration{}
	failed := map[string]bool{}
	rounds := 0
	for _, m := range modes {
		rounds = max(rounds, m.startN)
	}
	for i := 0; i < rounds; i++ {
		for _, m := range modes {
			if i >= m.startN || failed[m.name] {
				continue
			}
			d, err := startupOnce(m)
			if err != nil {
				failed[m.name] = true
				stats[m.name].err = "start-up: " + err.Error()
				fmt.Fprintf(os.Stderr, "   %s: %v\n", m.name, err)
				continue
			}
			ds[m.name] = append(ds[m.name], d)
		}
	}
	for _, m := range modes {
		l := ds[m.name]
		if failed[m.name] || len(l) == 0 {
			continue
		}
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		stats[m.name].startup, stats[m.name].startN = l[len(l)/2], len(l)
		fmt.Fprintf(os.Stderr, "   %-13s median %s (n=%d)\n", m.name, fmtDur(l[len(l)/2]), len(l))
	}
}

func startupOnce(m mode) (time.Duration, error) {
	errw := logFile(m, "startup")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	switch m.kind {
	case kindStdio:
		c, err := startStdio(m.argv, env(), errw)
		if err != nil {
			return 0, err
		}
		defer c.close()
		if _, _, err = c.call(ctx, "initialize", initParams, false); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	default:
		s, err := startHTTPServer(m, env(), errw)
		if err != nil {
			return 0, err
		}
		defer s.stop()
		if err = s.waitListening(30 * time.Second); err != nil {
			return 0, err
		}
		hc := newHTTPClient(s.url, "")
		defer hc.hc.CloseIdleConnections()
		if _, _, err = hc.call(ctx, "initialize", initParams, false); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	}
}

// session is one mode's long-lived process with an initialized MCP session.
type session struct {
	m    mode
	c    caller
	pid  int // the proxy process (or, for direct, the server)
	stop func()
	err  error
}

func openSession(m mode) *session {
	ss := &session{m: m}
	errw := logFile(m, "run")
	switch m.kind {
	case kindStdio:
		sc, err := startStdio(m.argv, runEnv(m), errw)
		if err != nil {
			ss.err = err
			return ss
		}
		ss.c, ss.pid, ss.stop = sc, sc.pid(), sc.close
	case kindHTTP:
		s, err := startHTTPServer(m, runEnv(m), errw)
		if err != nil {
			ss.err = err
			return ss
		}
		ss.pid = s.cmd.Process.Pid
		if err := s.waitListening(30 * time.Second); err != nil {
			s.stop()
			ss.err = err
			return ss
		}
		hc := newHTTPClient(s.url, "")
		ss.c, ss.stop = hc, func() { hc.close(); s.stop() }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ss.err = initialize(ctx, ss.c)
	return ss
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Time caps keep a slow peer from blowing the run's budget; the table reports the
// number of calls actually made.
const (
	seqCap = 15 * time.Second
	ccCap  = 10 * time.Second
	rounds = 5
	// budget bounds the whole run: once it is spent, later rounds are skipped (every
	// mode keeps at least one round), and the table shows how many calls were made.
	budget = 270 * time.Second
)

var began = time.Now()

type sizeRun struct {
	ss      *session
	r       result
	call    func(keep bool) ([]byte, error)
	seq, cc int // calls per round
	lat     []time.Duration
	seqTime time.Duration
	ccTime  time.Duration
	text    string
}

// runSize validates and warms every session at one size, then runs rounds of
// sequential calls and of calls with 16 in flight, visiting every mode each round.
func runSize(sessions []*session, sz sizeSpec) []result {
	text := payload.Text(sz.bytes)
	params := []byte(`{"name":"echo","arguments":{"text":"` + text + `"}}`)
	var runs []*sizeRun
	for _, ss := range sessions {
		if ss.m.sizes != nil && !contains(ss.m.sizes, sz.name) {
			continue
		}
		run := &sizeRun{ss: ss, r: result{mode: ss.m.name, size: sz.name}, text: text}
		runs = append(runs, run)
		if ss.err != nil {
			run.r.err = ss.err.Error()
			continue
		}
		warm, seq, cc := sz.warm, sz.seq, sz.cc
		if ss.m.peer {
			warm, seq, cc = min(warm, sz.peerSeq/10+5), min(seq, sz.peerSeq), min(cc, sz.peerSeq)
		}
		run.seq, run.cc = (seq+rounds-1)/rounds, (cc+rounds-1)/rounds
		c := ss.c
		run.call = func(keep bool) ([]byte, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			body, n, err := c.call(ctx, "tools/call", params, keep)
			if err == nil && n < sz.bytes {
				if body == nil {
					body, _, _ = c.call(ctx, "tools/call", params, true)
				}
				err = fmt.Errorf("short response (%d bytes): %.200s", n, body)
			}
			return body, err
		}
		if err := run.warm(warm); err != nil {
			run.r.err = err.Error()
		}
	}
	for round := 0; round < rounds; round++ {
		if round > 0 && time.Since(began) > budget {
			fmt.Fprintf(os.Stderr, "   time budget spent: %d of %d rounds\n", round, rounds)
			break
		}
		for k := range runs {
			run := runs[(k+round)%len(runs)] // rotate who goes first
			if run.r.err != "" {
				continue
			}
			if err := run.round(); err != nil {
				run.r.err = err.Error()
			}
		}
	}
	var out []result
	for _, run := range runs {
		r := run.r
		if r.err == "" {
			lat := run.lat
			r.n = len(lat)
			r.seqRate = float64(len(lat)) / run.seqTime.Seconds()
			r.ccRate = float64(r.ccN) / run.ccTime.Seconds()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			r.p50, r.p95, r.p99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
			fmt.Fprintf(os.Stderr, "   %-13s p50 %s p95 %s p99 %s  seq %.0f/s  x16 %.0f/s\n",
				r.mode, fmtDur(r.p50), fmtDur(r.p95), fmtDur(r.p99), r.seqRate, r.ccRate)
		} else {
			fmt.Fprintf(os.Stderr, "   %-13s error: %s\n", r.mode, r.err)
		}
		out = append(out, r)
	}
	return out
}

// warm checks the echo once, then makes warm-up calls, sequential then concurrent (so
// HTTP keep-alive pools fill).
func (run *sizeRun) warm(n int) error {
	body, err := run.call(true)
	if err != nil {
		return err
	}
	var resp struct {
		Result struct {
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	if json.Unmarshal(body, &resp) != nil || len(resp.Result.Content) != 1 || resp.Result.Content[0].Text != run.text {
		return fmt.Errorf("echo came back wrong: %.200s", body)
	}
	for i := 0; i < n; i++ {
		if _, err := run.call(false); err != nil {
			return err
		}
	}
	_, _, err = concurrent(run.call, min(n, 4*inflight), time.Minute)
	return err
}

// maxTimeouts is how many unanswered calls a mode may have at one size before its
// figures are dropped as broken rather than left out one by one.
const maxTimeouts = 3

func (run *sizeRun) round() error {
	start := time.Now()
	var stalled time.Duration
	for i := 0; i < run.seq; i++ {
		t0 := time.Now()
		if _, err := run.call(false); err != nil {
			if !errors.Is(err, context.DeadlineExceeded) || run.r.timeouts >= maxTimeouts {
				return err
			}
			run.r.timeouts++ // left out, with the time it took
			stalled += time.Since(t0)
			continue
		}
		run.lat = append(run.lat, time.Since(t0))
		if time.Since(start)-stalled > seqCap/rounds && i >= 10 {
			break
		}
	}
	run.seqTime += time.Since(start) - stalled
	n, d, err := concurrent(run.call, run.cc, ccCap/rounds)
	if err != nil {
		if !errors.Is(err, context.DeadlineExceeded) || run.r.timeouts >= maxTimeouts {
			return fmt.Errorf("16 in flight: %w", err)
		}
		run.r.timeouts++ // this round's x16 figures are left out: one worker waited 30 s
		return nil
	}
	run.r.ccN += n
	run.ccTime += d
	return nil
}

// concurrent makes total calls from 16 goroutines (stopping early after capd) and
// returns how many completed and how long they took.
func concurrent(call func(bool) ([]byte, error), total int, capd time.Duration) (int, time.Duration, error) {
	var next, done atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(capd)
	for w := 0; w < inflight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) {
				if time.Now().After(deadline) {
					return
				}
				if _, err := call(false); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if e, ok := firstErr.Load().(error); ok {
		return int(done.Load()), d, e
	}
	return int(done.Load()), d, nil
}

// pct is the nearest-rank percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted)+99)/100 - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/1e6)
}

var _ = http.StatusOK
