package cli

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A proxy process (wrap, run, serve) lives as long as the IDE does, one per server, and
// copies every message it relays at least twice, so nearly all it allocates is garbage
// at once. Its collector is set for that:
//
//   - GOGC 400: with Go's default of 100, a proxy relaying 64 KiB calls spent about a
//     quarter of its CPU collecting a heap of a few MiB; 400 collects a quarter as often.
//   - A soft limit of 16 MiB on the Go heap and runtime keeps the footprint small all the
//     same: near the limit the collector runs sooner, so 400 only applies while the heap
//     is small. Past it (large messages in flight) the collector works harder, at most
//     half the CPU by the runtime's own cap; nothing fails. 16 MiB holds a few 1 MiB
//     messages in flight plus the runtime's baseline.
//   - The limit follows what stays live (see adaptLimit): `airlock serve` holding thirty
//     sessions keeps about 9 MiB live, and a fixed 16 MiB limit made it collect on nearly
//     every allocation (23 % of its CPU).
//
// Measured with scripts/bench.sh's echo calls, 16 in flight (2 cores): proxy CPU per
// 64 KiB call 1.2–1.3 ms → 0.8–0.9 ms; peak RSS 30 → 33 MB at 64 KiB, 35 MB either way
// at 1 MiB.
const (
	proxyGCPercent   = 400
	proxyMemoryLimit = 16 << 20
)

// memoryTuning is what tuneMemory would set: ok is false when the user set GOGC or
// GOMEMLIMIT, which win (the runtime has already applied them).
func memoryTuning(getenv func(string) string) (gcPercent int, limit int64, ok bool) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0, 0, false
	}
	return proxyGCPercent, proxyMemoryLimit, true
}

// tuneMemory sets the collector for a proxy process until ctx ends. It changes this
// process only: the servers Airlock starts inherit no GOGC or GOMEMLIMIT from it.
func tuneMemory(ctx context.Context, env *Env) {
	if !env.TuneMemory {
		return
	}
	if pct, limit, ok := memoryTuning(env.Getenv); ok {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
		t, live := time.NewTicker(adaptEvery), readLive
		go func() {
			defer t.Stop()
			adaptLimit(ctx, limit, t.C, live, debug.SetMemoryLimit)
		}()
	}
}

// adaptEvery is how often the limit is reconsidered, and readLive how the live heap is
// read (both variables for tests).
var (
	adaptEvery = 2 * time.Second
	readLive   = liveHeap
)

// limitFor is the memory limit for a process with live bytes of heap still in use after
// the last collection: base, or three times what is live when that is more, so the
// collector always has at least twice the live heap of room (GOGC 100's) before the
// limit makes it run.
func limitFor(base int64, live uint64) int64 {
	return max(base, 3*int64(live))
}

// adaptLimit sets the limit from the live heap at every tick, until ctx ends. It goes by
// the least of the last three readings, what stays live (sessions), not a burst of large
// messages in flight, which the limit is there to keep small.
func adaptLimit(ctx context.Context, base int64, tick <-chan time.Time, live func() uint64, set func(int64) int64) {
	current := base
	var last [3]uint64
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		last[n%len(last)] = live()
		if n < len(last)-1 {
			continue
		}
		if want := limitFor(base, min(last[0], last[1], last[2])); want != current {
			set(want)
			current = want
		}
	}
}

// liveHeap is the heap the last collection found in use.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
