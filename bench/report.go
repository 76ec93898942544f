package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// table renders rows as an aligned markdown table (readable as plain text too).
func table(header []string, rows [][]string) string {
	w := make([]int, len(header))
	for i, h := range header {
		w[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			pad := w[i] - len([]rune(c))
			if i >= 2 { // numbers: right-align
				fmt.Fprintf(&b, " %s%s |", strings.Repeat(" ", pad), c)
			} else {
				fmt.Fprintf(&b, " %s%s |", c, strings.Repeat(" ", pad))
			}
		}
		b.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		if i >= 2 {
			sep[i] = strings.Repeat("-", w[i]-1) + ":"
		} else {
			sep[i] = strings.Repeat("-", w[i])
		}
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func mb(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", float64(b)/1e6)
}

func render(modes []mode, results []result, stats map[string]*modeStats, took time.Duration, load0, load1 string) string {
	get := func(m, s string) *result {
		for i := range results {
			if results[i].mode == m && results[i].size == s && results[i].err == "" {
				return &results[i]
			}
		}
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Airlock proxy benchmark\n\n")
	fmt.Fprintf(&b, "%s, %d CPUs, %s/%s, %s; run took %s. Echo tool calls (`tools/call` of a go-sdk v1.8.0 server's `echo`),\n",
		time.Now().Format("2006-01-02 15:04"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), took.Round(time.Second))
	fmt.Fprintf(&b, "one long-lived session per mode, over 127.0.0.1. Load average at start %s, at end %s.\n", load0, load1)
	fmt.Fprintf(&b, "Calls run in %d interleaved rounds (every mode each round) so background load hits all modes alike.\n", rounds)
	fmt.Fprintf(&b, "Latency: sequential calls after warm-up (nearest-rank percentiles).\n")
	fmt.Fprintf(&b, "x16: calls/s with 16 calls in flight. Added p50 = mode p50 − direct p50 at the same size.\n")
	fmt.Fprintf(&b, "HTTP modes: Go net/http keep-alive client, `Accept: application/json, text/event-stream`, after initialize + notifications/initialized.\n\n")

	fmt.Fprintf(&b, "## Latency and throughput\n\n")
	var rows [][]string
	for _, m := range modes {
		for _, sz := range sizes {
			var r *result
			for i := range results {
				if results[i].mode == m.name && (results[i].size == sz.name || results[i].size == "all") {
					r = &results[i]
				}
			}
			if r == nil {
				continue
			}
			if r.err != "" {
				rows = append(rows, []string{m.name, sz.name, "error: " + trunc(r.err, 90), "", "", "", "", "", ""})
				continue
			}
			added := "—"
			if d := get("direct", sz.name); d != nil && m.name != "direct" {
				added = ms(r.p50 - d.p50)
			}
			calls := fmt.Sprintf("%d/%d", r.n, r.ccN)
			if r.timeouts > 0 {
				calls += fmt.Sprintf(" (%d unanswered in 30 s, left out)", r.timeouts)
			}
			rows = append(rows, []string{m.name, sz.name, calls, ms(r.p50), ms(r.p95), ms(r.p99), added,
				fmt.Sprintf("%.0f", r.seqRate), fmt.Sprintf("%.0f", r.ccRate)})
		}
	}
	b.WriteString(table([]string{"mode", "size", "calls seq/x16", "p50 ms", "p95 ms", "p99 ms", "added p50 ms", "seq calls/s", "x16 calls/s"}, rows))

	fmt.Fprintf(&b, "\n## Start-up and memory\n\n")
	fmt.Fprintf(&b, "Start-up: median time from spawn to the initialize response (HTTP modes: spawn the proxy, poll until its port\n")
	fmt.Fprintf(&b, "accepts, POST initialize, which starts the echo server). Peak RSS: VmHWM of the proxy process itself, not its child,\n")
	fmt.Fprintf(&b, "read after all sizes ran (for direct: the echo server, for reference). MB = 10^6 bytes.\n\n")
	rows = nil
	dst := stats["direct"]
	for _, m := range modes {
		st := stats[m.name]
		if st == nil {
			continue
		}
		su, added := "error", "—"
		if st.startN > 0 {
			su = fmt.Sprintf("%s (n=%d)", ms(st.startup), st.startN)
			if dst != nil && dst.startN > 0 && m.name != "direct" {
				added = ms(st.startup - dst.startup)
			}
		}
		rows = append(rows, []string{m.name, st.rssOf, su, added, mb(st.rss)})
	}
	b.WriteString(table([]string{"mode", "RSS of", "start-up ms", "added ms", "peak RSS MB"}, rows))

	fmt.Fprintf(&b, "\n## Targets\n\n")
	rows = nil
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	add := func(target, measured string, ok bool, known bool) {
		v := "n/a"
		if known {
			v = verdict(ok)
		}
		rows = append(rows, []string{v, target, measured})
	}
	for _, s := range []string{"5 B", "64 KiB"} {
		w, r := get("airlock wrap", s), get("bare relay", s)
		if w != nil && r != nil {
			add(fmt.Sprintf("wrap p50 ≤ 1.15 × bare relay p50 @ %s", s),
				fmt.Sprintf("%s vs %s ms (%+.1f %%)", ms(w.p50), ms(r.p50), 100*(float64(w.p50)/float64(r.p50)-1)), float64(w.p50) <= 1.15*float64(r.p50), true)
		} else {
			add("wrap p50 ≤ 1.15 × bare relay p50 @ "+s, "missing data", false, false)
		}
	}
	for _, sz := range sizes {
		w, d := get("airlock wrap", sz.name), get("direct", sz.name)
		if w != nil && d != nil {
			add("wrap x16 calls/s ≥ 0.85 × direct @ "+sz.name,
				fmt.Sprintf("%.0f vs %.0f calls/s (%.0f %%)", w.ccRate, d.ccRate, 100*w.ccRate/d.ccRate), w.ccRate >= 0.85*d.ccRate, true)
		} else {
			add("wrap x16 calls/s ≥ 0.85 × direct @ "+sz.name, "missing data", false, false)
		}
	}
	if w, d := stats["airlock wrap"], stats["direct"]; w != nil && d != nil && w.startN > 0 && d.startN > 0 {
		a := w.startup - d.startup
		add("wrap start-up adds ≤ 30 ms", fmt.Sprintf("+%s ms (%s vs %s)", ms(a), ms(w.startup), ms(d.startup)), a <= 30*time.Millisecond, true)
	} else {
		add("wrap start-up adds ≤ 30 ms", "missing data", false, false)
	}
	for _, n := range []string{"airlock wrap", "airlock serve"} {
		if st := stats[n]; st != nil && st.rss > 0 {
			add(n+" peak RSS < 40 MB", mb(st.rss)+" MB", st.rss < 40e6, true)
		} else {
			add(n+" peak RSS < 40 MB", "missing data", false, false)
		}
	}
	for _, peer := range []string{"supergateway", "mcp-proxy"} {
		for _, sz := range sizes {
			s, p, d := get("airlock serve", sz.name), get(peer, sz.name), get("direct", sz.name)
			target := fmt.Sprintf("3 × serve added p50 ≤ %s added p50 @ %s", peer, sz.name)
			if s == nil || p == nil || d == nil {
				if sz.bytes < 1<<20 || s == nil {
					add(target, "missing data", false, false)
				}
				continue
			}
			sa, pa := s.p50-d.p50, p.p50-d.p50
			if sa <= 0 { // serve came out faster than direct: within the run's noise
				add(target, fmt.Sprintf("serve adds nothing measurable (%s) vs %s ms", ms(sa), ms(pa)), true, true)
				continue
			}
			add(target, fmt.Sprintf("3 × %s = %s vs %s ms (peer/serve = %.1f×)", ms(sa), ms(3*sa), ms(pa), float64(pa)/float64(sa)), 3*sa <= pa, true)
		}
	}
	b.WriteString(table([]string{"verdict", "target", "measured"}, rows))
	fmt.Fprintf(&b, "\nadded p50 = p50(mode, size) − p50(direct, size), both sequential; serve passes against a peer when 3 × added(serve) ≤ added(peer).\n")

	// What a stdio proxy with non-blocking stdio must add (ARCHITECTURE.md asks for it):
	// the same relay, with its stdin and stdout on the Go poller.
	rows = nil
	for _, sz := range sizes {
		w, r, n := get("airlock wrap", sz.name), get("bare relay", sz.name), get("nonblock relay", sz.name)
		if w == nil || r == nil || n == nil {
			continue
		}
		pct := func(a, b time.Duration) string { return fmt.Sprintf("%+.1f %%", 100*(float64(a)/float64(b)-1)) }
		rows = append(rows, []string{sz.name, ms(r.p50), ms(n.p50), pct(n.p50, r.p50), ms(w.p50), pct(w.p50, r.p50), pct(w.p50, n.p50)})
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "\n## Against the stdio floors\n\n")
		fmt.Fprintf(&b, "The bare relay (`bench/relay`) reads its stdin with blocking reads; `relay -nonblock` is the same relay with its\n")
		fmt.Fprintf(&b, "stdin and stdout non-blocking on the Go poller, as ../shared/ARCHITECTURE.md requires of Airlock (a blocking stdin\n")
		fmt.Fprintf(&b, "stalls ~10 ms per 64 KiB message). The difference between the two is what that requirement costs before any parsing.\n\n")
		b.WriteString(table([]string{"size", "bare relay p50 ms", "nonblock relay p50 ms", "nonblock vs bare", "wrap p50 ms", "wrap vs bare", "wrap vs nonblock"}, rows))
	}

	// What any bridge must add: the HTTP floor (bench/httprelay) does nothing but relay.
	rows = nil
	for _, sz := range sizes {
		s, f, d := get("airlock serve", sz.name), get("http floor", sz.name), get("direct", sz.name)
		if s == nil || f == nil || d == nil {
			continue
		}
		fa, sa := f.p50-d.p50, s.p50-d.p50
		peers := ""
		for _, peer := range []string{"supergateway", "mcp-proxy"} {
			if p := get(peer, sz.name); p != nil {
				peers += fmt.Sprintf(", %s %s", peer, ms(p.p50-d.p50))
			}
		}
		rows = append(rows, []string{sz.name, ms(fa), ms(sa), ms(sa - fa), strings.TrimPrefix(peers, ", ")})
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "\n## Against the HTTP floor\n\n")
		fmt.Fprintf(&b, "The HTTP floor (`bench/httprelay`) relays each POST to the server's stdin and the matching line back, checking\n")
		fmt.Fprintf(&b, "nothing: the least any stdio-to-HTTP bridge adds on this machine. Where 3 × the floor's added p50 is more than a\n")
		fmt.Fprintf(&b, "peer's, no bridge can be three times better than that peer; what Airlock controls is its cost over the floor.\n\n")
		b.WriteString(table([]string{"size", "floor added p50 ms", "serve added p50 ms", "serve − floor ms", "peers' added p50 ms"}, rows))
	}
	return b.String()
}

func trunc(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
