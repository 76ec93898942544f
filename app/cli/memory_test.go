package cli

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"time"
)

func TestTuneMemory(t *testing.T) {
	pct := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(pct); debug.SetMemoryLimit(limit) })
	reset := func() { debug.SetGCPercent(100); debug.SetMemoryLimit(math.MaxInt64) }
	// current reads the settings without changing them.
	current := func() (int, int64) {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p, debug.SetMemoryLimit(-1)
	}
	none := func(string) string { return "" }

	tests := []struct {
		name      string
		tune      bool
		env       map[string]string
		wantPct   int
		wantLimit int64
	}{
		{name: "own process", tune: true, wantPct: proxyGCPercent, wantLimit: proxyMemoryLimit},
		{name: "in-process command", tune: false, wantPct: 100, wantLimit: math.MaxInt64},
		{name: "user set GOGC", tune: true, env: map[string]string{"GOGC": "50"}, wantPct: 100, wantLimit: math.MaxInt64},
		{name: "user set GOMEMLIMIT", tune: true, env: map[string]string{"GOMEMLIMIT": "1GiB"}, wantPct: 100, wantLimit: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset()
			getenv := none
			if tt.env != nil {
				getenv = func(k string) string { return tt.env[k] }
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tuneMemory(ctx, &Env{TuneMemory: tt.tune, Getenv: getenv})
			if p, l := current(); p != tt.wantPct || l != tt.wantLimit {
				t.Errorf("after tuneMemory: GOGC %d, limit %d; want %d, %d", p, l, tt.wantPct, tt.wantLimit)
			}
		})
	}
	// The proxy commands tune; others (the log, the policy editor) do not.
	for _, name := range []string{"wrap", "run", "serve", "log"} {
		reset()
		Run([]string{name, "--help"}, &Env{Stdout: discard{}, Stderr: discard{}, TuneMemory: true, Getenv: none})
		p, _ := current()
		if want := name != "log"; (p == proxyGCPercent) != want {
			t.Errorf("airlock %s --help: GOGC %d; want tuned = %v", name, p, want)
		}
	}
}

// The limit follows what stays live: never below its base, and three times the least of
// the last three readings once that is more, so many sessions do not make the collector
// run on every allocation while a burst of large messages does not raise it.
func TestAdaptLimit(t *testing.T) {
	const base = 16 << 20
	tick := make(chan time.Time)
	lives := make(chan uint64)
	sets := make(chan int64, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		adaptLimit(ctx, base, tick, func() uint64 { return <-lives }, func(v int64) int64 { sets <- v; return 0 })
		close(done)
	}()
	step := func(live uint64) {
		tick <- time.Now()
		lives <- live
	}
	expect := func(want int64) {
		t.Helper()
		select {
		case got := <-sets:
			if got != want {
				t.Fatalf("limit set to %d, want %d", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("limit not set; want %d", want)
		}
	}
	step(2 << 20) // small: stays at the base, nothing to set
	step(2 << 20)
	step(40 << 20) // a burst of large messages in flight: not what stays live
	step(9 << 20)  // thirty sessions' worth, read three times running
	step(9 << 20)
	expect(27 << 20)
	step(9 << 20) // unchanged: not set again
	step(1 << 20) // the sessions ended
	expect(base)
	if len(sets) != 0 {
		t.Errorf("limit set %d more times", len(sets))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("adaptLimit did not return when its context ended")
	}
	for _, tt := range []struct {
		live uint64
		want int64
	}{{0, base}, {5 << 20, base}, {6 << 20, 18 << 20}, {100 << 20, 300 << 20}} {
		if got := limitFor(base, tt.live); got != tt.want {
			t.Errorf("limitFor(%d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}

// A proxy process keeps adapting its limit while it runs, and stops when it ends.
func TestTuneMemoryAdapts(t *testing.T) {
	pct := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	every, read := adaptEvery, readLive
	t.Cleanup(func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
		adaptEvery, readLive = every, read
	})
	adaptEvery = time.Millisecond
	readLive = func() uint64 { return 9 << 20 }
	ctx, cancel := context.WithCancel(context.Background())
	tuneMemory(ctx, &Env{TuneMemory: true, Getenv: func(string) string { return "" }})
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) != 27<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("limit %d, want it raised to %d", debug.SetMemoryLimit(-1), 27<<20)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	time.Sleep(20 * time.Millisecond) // let the adapter see the end
	debug.SetMemoryLimit(proxyMemoryLimit)
	time.Sleep(20 * time.Millisecond)
	if got := debug.SetMemoryLimit(-1); got != proxyMemoryLimit {
		t.Errorf("limit %d after the command ended; want it left alone at %d", got, proxyMemoryLimit)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
