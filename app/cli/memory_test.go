package cli

import (
	"math"
	"runtime/debug"
	"testing"
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
			tuneMemory(&Env{TuneMemory: tt.tune, Getenv: getenv})
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

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
