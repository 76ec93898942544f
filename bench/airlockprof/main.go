// Command airlockprof is Airlock's command line with a CPU profile around it, for
// studying where the benchmark's time goes: BENCH_CPUPROFILE=FILE airlockprof wrap -- CMD.
// The profile is written when the command returns (stdin closed for wrap, SIGTERM for
// serve). It is not the shipped binary: no desktop window, no frontend assets.
package main

import (
	"os"
	"runtime/pprof"

	"github.com/airlock-mcp/airlock/app/cli"
)

func main() {
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
