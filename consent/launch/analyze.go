package launch

import (
	"cmp"
	"slices"
	"strings"
)

// Category is the kind of risk a Span points at.
type Category string

// The categories of risk Analyze finds.
const (
	Privilege           Category = "privilege"            // sudo, doas, pkexec, su, runas
	Destructive         Category = "destructive"          // rm -rf, mkfs, dd of=/dev/…, shred
	DownloadExec        Category = "download_exec"        // curl … | sh, eval, iex (iwr …)
	UnpinnedPackage     Category = "unpinned_package"     // npx pkg, uvx pkg, docker run image:latest
	ContainerHost       Category = "container_host"       // --privileged, -v /:/host, docker.sock
	SensitivePath       Category = "sensitive_path"       // ~/.ssh, ~/.aws, .env, /etc/shadow
	PlaintextCredential Category = "plaintext_credential" // tokens, passwords written out
	CleartextHTTP       Category = "cleartext_http"       // http:// to another machine
	WorldWritableExe    Category = "world_writable_exe"   // a program others could replace
)

// Severity says how much a Span should worry the person approving.
type Severity string

// The severities, in increasing order.
const (
	Warn   Severity = "warn"   // worth a look; common in legitimate configs
	Danger Severity = "danger" // rarely what anyone wants from an MCP server
)

// Span is one risky stretch of a Command.
type Span struct {
	// Where names the string the span is in; Command.Text returns it.
	Where Location
	// Start and End are byte offsets into that string, Start < End.
	Start, End int
	// Text is the text of the span. Credentials are never shown: a span of category
	// PlaintextCredential, any span in a secret env value, and any credential inside
	// another span are replaced by bullets, so Text can be logged.
	Text     string
	Category Category
	Severity Severity
	// Why is one sentence that tells a person what the risk is.
	Why string
}

// Analysis is what Analyze found in a Command.
type Analysis struct {
	// Fingerprint identifies what runs; see Fingerprint.
	Fingerprint string
	// Spans are the risky stretches, ordered by location (executable, arguments, working
	// directory, env keys) and then by offset. A command with nothing risky has none.
	Spans []Span
	// Env is the config's environment sorted by key, with secrets hidden.
	Env []EnvVar
}

// Analyze finds the risky parts of c: in its arguments, inside shell scripts passed to
// sh -c, bash -lc, cmd /c and powershell -Command (however deeply nested), in the values
// of its env variables and in its working directory. It needs c.Executable (see
// Resolve) to judge the program itself; it stats that file and its directories but
// otherwise only reads c. It is safe for concurrent use.
func Analyze(c Command) Analysis {
	envs := classifyAll(c.Env)
	a := &analyzer{c: c, env: map[string]envInfo{}}
	for _, e := range envs {
		a.env[e.key] = e
	}
	for i, s := range c.Argv {
		a.scanText(argLoc(i), s, Danger)
		// An argument that is a whole home directory: a file server rooted there.
		if i > 0 && homeRE.MatchString(s) {
			a.add(argLoc(i), 0, len(s), SensitivePath, Warn, wholeHomeWhy)
		}
	}
	if c.Dir != "" {
		a.scanText(dirLoc, c.Dir, Danger)
	}
	for _, e := range envs {
		loc := envLoc(e.key)
		a.scanText(loc, e.value, Warn)
		if commandEnv(e.key) && strings.ContainsAny(strings.TrimSpace(e.value), " \t") {
			a.script(srcWord(loc, e.value), 1)
		}
	}
	if len(c.Argv) > 0 {
		ws := make([]*word, len(c.Argv))
		for i, s := range c.Argv {
			ws[i] = srcWord(argLoc(i), s)
		}
		a.credentialWords(ws)
		a.command(ws, 0, true)
	}
	a.program()

	out := Analysis{Fingerprint: fingerprint(c, envs), Spans: a.finish()}
	for _, e := range envs {
		out.Env = append(out.Env, EnvVar{Key: e.key, Display: e.display(), Secret: e.secret()})
	}
	return out
}

// commandEnv reports whether an env key names a command line (GIT_SSH_COMMAND,
// PRE_START_HOOK), whose value is then analyzed as a script.
func commandEnv(key string) bool {
	for _, w := range nameWords(key) {
		switch w {
		case "COMMAND", "CMD", "HOOK", "SCRIPT", "EXEC":
			return true
		}
	}
	return false
}

type analyzer struct {
	c        Command
	env      map[string]envInfo
	spans    []Span
	suppress []suppression
}

// suppression withdraws findings of one category in a range: the container side of a
// docker volume is not a path on this machine.
type suppression struct {
	loc        Location
	start, end int
	cat        Category
}

func (a *analyzer) add(loc Location, start, end int, cat Category, sev Severity, why string) {
	a.spans = append(a.spans, Span{Where: loc, Start: start, End: end, Category: cat, Severity: sev, Why: why})
}

// addWord adds a span over the value of w.
func (a *analyzer) addWord(w *word, cat Category, sev Severity, why string) {
	s, e := w.whole()
	a.add(w.loc, s, e, cat, sev, why)
}

// addPart adds a span over text[i:j] of w.
func (a *analyzer) addPart(w *word, i, j int, cat Category, sev Severity, why string) {
	s, e := w.rng(i, j)
	a.add(w.loc, s, e, cat, sev, why)
}

// addFrom adds a span from the start of first to the end of last, quotes included, or
// over last alone when they are in different strings.
func (a *analyzer) addFrom(first, last *word, cat Category, sev Severity, why string) {
	s, e := first.raw[0], last.raw[1]
	if first.loc != last.loc || s >= e {
		a.addWord(last, cat, sev, why)
		return
	}
	a.add(last.loc, s, e, cat, sev, why)
}

func (a *analyzer) suppressWord(w *word, i, j int, cat Category) {
	s, e := w.rng(i, j)
	a.suppress = append(a.suppress, suppression{w.loc, s, e, cat})
}

// scanText looks for credentials, sensitive paths and cleartext URLs anywhere in s.
func (a *analyzer) scanText(loc Location, s string, credSev Severity) {
	for _, m := range findCredentials(s) {
		a.add(loc, m.start, m.end, PlaintextCredential, credSev, m.why)
	}
	for _, m := range findSensitivePaths(s) {
		a.add(loc, m.start, m.end, SensitivePath, m.sev, m.why)
	}
	for _, m := range findHTTP(s) {
		a.add(loc, m.start, m.end, CleartextHTTP, m.sev, m.why)
	}
}

func fieldOrder(f Field) int {
	switch f {
	case FieldExe:
		return 0
	case FieldArg:
		return 1
	case FieldDir:
		return 2
	}
	return 3
}

func compareLoc(a, b Location) int {
	return cmp.Or(
		cmp.Compare(fieldOrder(a.Field), fieldOrder(b.Field)),
		cmp.Compare(a.Arg, b.Arg),
		strings.Compare(a.Key, b.Key),
	)
}

func sevRank(s Severity) int {
	if s == Danger {
		return 1
	}
	return 0
}

// finish drops withdrawn and out-of-range spans, fills Text, sorts, and keeps one span
// per (location, range, category), the most severe.
func (a *analyzer) finish() []Span {
	creds := map[Location][][2]int{}
	for _, s := range a.spans {
		if s.Category == PlaintextCredential {
			creds[s.Where] = append(creds[s.Where], [2]int{s.Start, s.End})
		}
	}
	var out []Span
spans:
	for _, s := range a.spans {
		src := a.c.Text(s.Where)
		if s.Start < 0 || s.End > len(src) || s.Start >= s.End {
			continue
		}
		for _, x := range a.suppress {
			if x.cat == s.Category && x.loc == s.Where && x.start <= s.Start && s.End <= x.end {
				continue spans
			}
		}
		text := src[s.Start:s.End]
		switch {
		case s.Category == PlaintextCredential || s.Where.Field == FieldEnv && a.env[s.Where.Key].whole:
			text = mask(text)
		default:
			var parts [][2]int
			hidden := creds[s.Where]
			if s.Where.Field == FieldEnv {
				hidden = append(hidden, a.env[s.Where.Key].parts...)
			}
			for _, c := range hidden {
				if c[0] < s.End && c[1] > s.Start {
					parts = append(parts, [2]int{max(c[0], s.Start) - s.Start, min(c[1], s.End) - s.Start})
				}
			}
			if len(parts) > 0 {
				text = redact(text, parts)
			}
		}
		s.Text = text
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(x, y Span) int {
		return cmp.Or(
			compareLoc(x.Where, y.Where),
			cmp.Compare(x.Start, y.Start),
			cmp.Compare(x.End, y.End),
			strings.Compare(string(x.Category), string(y.Category)),
			-cmp.Compare(sevRank(x.Severity), sevRank(y.Severity)),
		)
	})
	return slices.CompactFunc(out, func(x, y Span) bool {
		return x.Where == y.Where && x.Start == y.Start && x.End == y.End && x.Category == y.Category
	})
}
