// Package app is Airlock's entry point: it opens the desktop window or runs a command.
package app

import (
	"context"
	"io/fs"
	"os"

	"github.com/airlock-mcp/airlock/app/cli"
	"github.com/airlock-mcp/airlock/app/desktop"
)

// Main runs Airlock with the process's arguments (args[0] is the program name) and
// returns the exit status. With no arguments it opens the desktop window, whose frontend
// is assets.
func Main(args []string, assets fs.FS) int {
	if len(args) < 2 {
		args = append(args, "app")
	}
	env := &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, TuneMemory: true}
	env.Window = func(ctx context.Context, demo bool) error {
		return desktop.Run(ctx, assets, desktop.Options{Version: cli.Version, Demo: demo, Tools: serverTools})
	}
	return cli.Run(args[1:], env)
}

// serverTools lists a server's tools for the window.
func serverTools(ctx context.Context, name string) ([]desktop.ToolInfo, error) {
	tools, err := cli.ServerTools(ctx, name, os.Stderr)
	out := make([]desktop.ToolInfo, len(tools))
	for i, t := range tools {
		out[i] = desktop.ToolInfo(t)
	}
	return out, err
}
