// Package cli implements Airlock's command line: each subcommand parses its flags here
// and calls into proxy, consent and store.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Env is what a command may touch of the outside world, so tests can run commands
// in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Window opens the desktop window (with the demo when demo is set) and returns when
	// it closes; nil means this program has no window.
	Window func(ctx context.Context, demo bool) error
	// TuneMemory lets proxy commands set this process's garbage collector (see
	// tuneMemory). Only a process of its own should: tests running commands in-process
	// leave it unset.
	TuneMemory bool
}

type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError is a mistake in how a command was called; its message goes with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Run runs the command line args (without the program name) and returns the process exit
// status. SIGINT, SIGTERM and SIGHUP end the command gracefully.
func Run(args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c := commands[args[1]]; c != nil {
				fmt.Fprintf(env.Stdout, "usage: airlock %s\n\n%s\n", c.usage, c.summary)
				return 0
			}
		}
		printHelp(env.Stdout)
		return 0
	}
	c := commands[args[0]]
	if c == nil {
		fmt.Fprintf(env.Stderr, "airlock: unknown command %q\n\n", args[0])
		printHelp(env.Stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// A write to a closed stdout must return EPIPE rather than kill the process, so the
	// server still gets shut down properly.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	err := c.run(ctx, env, args[1:])
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "airlock %s: %s\nusage: airlock %s\n", c.name, ue.msg, c.usage)
		return 2
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(env.Stderr, "airlock %s: %v\n", c.name, err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Airlock puts a person between an AI agent and the MCP servers it can reach.")
	fmt.Fprintln(w, "\nusage: airlock [command] [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, firstLine(commands[n].summary))
	}
	fmt.Fprintln(w, "\nRun 'airlock help COMMAND' for a command's flags.")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(env *Env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: airlock %s\n\n%s\n\nflags:\n", c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning a bad flag into a usage error (exit 2, one message)
// and -h into the command's help.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // flag calls it on every error; we report once below
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	}
	return usagef("%v", err)
}

// logger returns a Logf that writes lines to w.
func logger(w io.Writer) func(string, ...any) {
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		io.WriteString(w, msg)
	}
}
