// Command airlockprof is Airlock's command line with profiling around it, for studying
// where the benchmark's time goes:
//
//	BENCH_CPUPROFILE=FILE airlockprof wrap -- CMD   # CPU profile
//	BENCH_TRACE=FILE airlockprof wrap -- CMD        # execution trace (go tool trace)
//	BENCH_MEMPROFILE=FILE airlockprof serve …       # heap profile at the heap's high point
//
// Profiles are written when the command returns (stdin closed for wrap, SIGTERM for
// serve). It is not the shipped binary: no desktop window, no frontend assets.
package main

import (
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/airlock-mcp/airlock/app/cli"
)

func main() {
	if path := os.Getenv("BENCH_MEMPROFILE"); path != "" {
		go heapHighs(path)
	}
	run := func() int {
		return cli.Run(os.Args[1:], &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, TuneMemory: true})
	}
	if path := os.Getenv("BENCH_TRACE"); path != "" {
		run = around(path, run, trace.Start, trace.Stop)
	}
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		run = around(path, run, pprof.StartCPUProfile, pprof.StopCPUProfile)
	}
	os.Exit(run())
}

// around runs run between start and stop, recording to a new file at path.
func around(path string, run func() int, start func(io.Writer) error, stop func()) func() int {
	return func() int {
		f, err := os.Create(path)
		if err != nil || start(f) != nil {
			return run()
		}
		code := run()
		stop()
		f.Close()
		return code
	}
}

// heapHighs writes a heap profile to path whenever the heap in use reaches a new high.
func heapHighs(path string) {
	var high uint64
	for {
		time.Sleep(5 * time.Millisecond)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse <= high {
			continue
		}
		high = ms.HeapInuse
		if f, err := os.Create(path); err == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
}
