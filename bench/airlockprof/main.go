// Command airlockprof is Airlock's command line with a CPU profile around it, for
// studying where the benchmark's time goes: BENCH_CPUPROFILE=FILE airlockprof wrap -- CMD.
// The profile is written when the command returns (stdin closed for wrap, SIGTERM for
// serve). It is not the shipped binary: no desktop window, no frontend assets.
package main

import (
	"os"
	"runtime"
	"runtime/pprof"
	"time"
	"runtime/trace"

	"github.com/airlock-mcp/airlock/app/cli"
)

func main() {
	if path := os.Getenv("BENCH_MEMPROFILE"); path != "" {
		// Write a heap profile whenever the heap in use reaches a new high.
		go func() {
			var high uint64
			for {
				time.Sleep(5 * time.Millisecond)
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > high {
					high = ms.HeapInuse
					if f, err := os.Create(path); err == nil {
						pprof.Lookup("heap").WriteTo(f, 0)
						f.Close()
					}
				}
			}
		}()
	}
	if path := os.Getenv("BENCH_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil {
			trace.Start(f)
			code := cli.Run(os.Args[1:], &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			trace.Stop()
			f.Close()
			os.Exit(code)
		}
	}
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			code := cli.Run(os.Args[1:], &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(cli.Run(os.Args[1:], &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
