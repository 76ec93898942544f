package cli

import "runtime/debug"

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

// tuneMemory sets the collector for a proxy process. It changes this process only: the
// servers Airlock starts inherit no GOGC or GOMEMLIMIT from it.
func tuneMemory(env *Env) {
	if !env.TuneMemory {
		return
	}
	if pct, limit, ok := memoryTuning(env.Getenv); ok {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	}
}
