package launch

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Command is a stdio server's launch as its config describes it. The zero value is an
// empty command.
type Command struct {
	// Name is the server's name in the config. It is for people only: Fingerprint and
	// Diff ignore it.
	Name string
	// Argv is the program and its arguments, Argv[0] as the config writes it.
	Argv []string
	// Dir is the working directory; "" means Airlock's own.
	Dir string
	// Env holds the variables the config sets on top of the inherited environment.
	Env map[string]string
	// Executable is the absolute path Argv[0] resolves to, or "" if it was not found or
	// not resolved. Resolve fills it.
	Executable string
}

// Resolve returns c with Executable set to the absolute path of Argv[0], found with
// lookPath (exec.LookPath when nil). A relative Argv[0] that contains a path separator is
// taken relative to Dir, as the started process would see it; a bare name is searched in
// PATH by lookPath. Executable is "" when Argv is empty or lookPath fails. Resolve does
// not follow symbolic links.
func Resolve(c Command, lookPath func(string) (string, error)) Command {
	c.Executable = ""
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return c
	}
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	name := c.Argv[0]
	if strings.ContainsAny(name, `/`+string(filepath.Separator)) && !filepath.IsAbs(name) && c.Dir != "" {
		name = filepath.Join(c.Dir, name)
	}
	p, err := lookPath(name)
	if err != nil || p == "" {
		return c
	}
	if !filepath.IsAbs(p) {
		if c.Dir != "" {
			p = filepath.Join(c.Dir, p)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return c
		}
		p = abs
	}
	c.Executable = filepath.Clean(p)
	return c
}

// Field names the part of a Command that a Location points into.
type Field string

// The parts of a Command.
const (
	FieldArg Field = "arg" // Argv[Location.Arg]
	FieldEnv Field = "env" // the value of Env[Location.Key]
	FieldDir Field = "dir" // Dir
	FieldExe Field = "exe" // Executable
)

// Location names one string of a Command: an argument, an env value, the working
// directory or the resolved executable.
type Location struct {
	Field Field
	Arg   int    // index into Argv when Field is FieldArg
	Key   string // env key when Field is FieldEnv
}

func argLoc(i int) Location    { return Location{Field: FieldArg, Arg: i} }
func envLoc(k string) Location { return Location{Field: FieldEnv, Key: k} }

var (
	dirLoc = Location{Field: FieldDir}
	exeLoc = Location{Field: FieldExe}
)

// String returns the location the way a person would name it, such as "argument 2" or
// "env GITHUB_TOKEN".
func (l Location) String() string {
	switch l.Field {
	case FieldArg:
		return "argument " + strconv.Itoa(l.Arg)
	case FieldEnv:
		return "env " + l.Key
	case FieldDir:
		return "working directory"
	case FieldExe:
		return "executable"
	}
	return "unknown location"
}

// Text returns the string l points into, or "" if c has no such string. Span offsets are
// byte offsets into it.
func (c Command) Text(l Location) string {
	switch l.Field {
	case FieldArg:
		if l.Arg >= 0 && l.Arg < len(c.Argv) {
			return c.Argv[l.Arg]
		}
	case FieldEnv:
		return c.Env[l.Key]
	case FieldDir:
		return c.Dir
	case FieldExe:
		return c.Executable
	}
	return ""
}
