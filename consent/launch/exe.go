package launch

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// tempDirs are shared scratch directories: anyone on the machine may create files there.
var tempDirs = []string{"/tmp", "/var/tmp", "/dev/shm", "/private/tmp", "/private/var/tmp"}

// program checks the program itself: the resolved executable, or an absolute Argv[0]
// when it was not resolved.
func (a *analyzer) program() {
	if p := a.c.Executable; p != "" {
		if why := writableReason(p); why != "" {
			a.add(exeLoc, 0, len(p), WorldWritableExe, Danger, why)
		}
		return
	}
	if len(a.c.Argv) > 0 && isAbs(a.c.Argv[0]) {
		if why := writableReason(a.c.Argv[0]); why != "" {
			a.add(argLoc(0), 0, len(a.c.Argv[0]), WorldWritableExe, Danger, why)
		}
	}
}

// writable checks a program or script file named by w, relative to the working
// directory when it is relative.
func (a *analyzer) writable(w *word) {
	p := w.text
	if p == "" || strings.ContainsAny(p, "$%`") {
		return
	}
	if !isAbs(p) {
		if !isAbs(a.c.Dir) {
			return
		}
		p = filepath.Join(a.c.Dir, p)
	}
	if why := writableReason(p); why != "" {
		a.addWord(w, WorldWritableExe, Danger, why)
	}
}

func isAbs(p string) bool { return strings.HasPrefix(p, "/") || filepath.IsAbs(p) }

// writableReason says why someone other than the user could replace the file at the
// absolute path p, or returns "". It looks at the path and, where they exist, at the
// modes of the file and of the directories above it (not on Windows, whose modes do not
// say this).
func writableReason(p string) string {
	slash := filepath.ToSlash(filepath.Clean(p))
	for _, d := range tempDirs {
		if slash == d || strings.HasPrefix(slash, d+"/") {
			return "This runs a program from " + d + ", where any user or process on this machine can plant or replace files."
		}
	}
	if runtime.GOOS == "windows" {
		return ""
	}
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o002 != 0 {
		return "This program file can be changed by any user on this machine."
	}
	return writableDir(filepath.Dir(filepath.Clean(p)))
}

// writableDir returns why dir, the directory of a program, or a directory above it lets
// other users replace the program: the directory itself is world-writable, or one above
// it is world-writable without the sticky bit.
func writableDir(dir string) string {
	for first := true; ; first = false {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			m := fi.Mode()
			if m.Perm()&0o002 != 0 && (first || m&fs.ModeSticky == 0) {
				return "This program is in " + dir + ", a directory any user on this machine can write to, so it could be swapped for something else."
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
