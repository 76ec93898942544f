package ideconfig

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// ScanLocation reports the servers of the one file at loc, as Scan does for every
// location of a platform: for a file recorded in installs.json that the platform's
// locations do not cover (installed with --file, or from another project). ok is false
// when the file does not exist.
func ScanLocation(loc Location, airlockPaths ...string) (r FileReport, ok bool) {
	data, err := os.ReadFile(loc.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return FileReport{}, false
	}
	r = FileReport{Location: loc, Entries: []Entry{}}
	if err != nil {
		r.Error = "read IDE config: " + err.Error()
	} else if doc, err := Parse(loc.Path, loc.Format, data); err != nil {
		r.Error = err.Error()
	} else if doc.Entries != nil {
		for i := range doc.Entries {
			doc.Entries[i].recognise(airlockPaths...)
		}
		r.Entries = doc.Entries
	}
	return r, true
}

// CurrentPlatform is this machine: the user's home (HOME, or USERPROFILE on Windows),
// the environment through getenv, and the working directory for project-scoped files.
func CurrentPlatform(getenv func(string) string) Platform {
	home := getenv("HOME")
	if runtime.GOOS == "windows" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	cwd, _ := os.Getwd()
	return Platform{GOOS: runtime.GOOS, Home: home, Getenv: getenv, Cwd: cwd}
}
