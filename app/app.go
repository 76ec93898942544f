// Package app is Airlock's entry point: it opens the desktop window or runs a command.
package app

import (
	"io/fs"
	"os"

	"github.com/airlock-mcp/airlock/app/cli"
)

// Main runs Airlock with the process's arguments (args[0] is the program name) and
// returns the exit status. assets holds the built frontend for the desktop window.
func Main(args []string, assets fs.FS) int {
	return cli.Run(args[1:], &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
}
