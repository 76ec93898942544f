package launch

import (
	"regexp"
	"slices"
	"strings"
)

// effective is what a command runs once wrappers such as sudo and env are peeled off.
type effective struct {
	name       string
	word       *word // the program word, nil for an empty command
	args       []*word
	readsStdin bool // it runs whatever arrives on its stdin as code
}

// script analyzes the shell script in w.
func (a *analyzer) script(w *word, depth int) {
	if depth > maxDepth {
		return
	}
	a.list(parse(w, depth), depth)
}

// list analyzes parsed commands: each one, what is substituted into it, where it
// redirects, and what its pipelines feed to an interpreter.
func (a *analyzer) list(cmds []*cmd, depth int) {
	if depth > maxDepth {
		return
	}
	effs := make([]effective, len(cmds))
	for i, c := range cmds {
		for _, w := range c.words {
			for _, sub := range w.subs {
				a.list(sub, depth+1)
			}
		}
		for _, r := range c.redirs {
			if r.target == nil {
				continue
			}
			for _, sub := range r.target.subs {
				a.list(sub, depth+1)
			}
			if _, end := r.target.whole(); isDiskDevice(r.target.text) && r.target.loc == r.loc && r.start < end {
				a.add(r.loc, r.start, end, Destructive, Danger, whyDiskWrite)
			}
		}
		a.credentialWords(c.words)
		effs[i] = a.command(c.words, depth, false)
	}
	a.pipelines(cmds, effs)
}

// pipelines finds downloads and decoders piped into an interpreter: curl … | sh.
func (a *analyzer) pipelines(cmds []*cmd, effs []effective) {
	start := 0
	for i := range cmds {
		if !cmds[i].piped {
			start = i
			continue
		}
		if !effs[i].readsStdin || effs[i].word == nil {
			continue
		}
		for j := start; j < i; j++ {
			kind := sourceKind(cmds[j].words, 0)
			if kind == "" {
				continue
			}
			why := whyPipeDownload
			if kind == "decode" {
				why = whyPipeDecode
			}
			a.addFrom(skipPrefix(cmds[j].words)[0], effs[i].word, DownloadExec, Danger, why)
			break
		}
	}
}

var (
	assignRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	prefixWords = map[string]bool{
		"!": true, "{": true, "}": true, "then": true, "do": true, "else": true, "elif": true,
		"if": true, "while": true, "until": true, "fi": true, "done": true, "esac": true,
	}
)

// skipPrefix drops what comes before the program in a shell command: variable
// assignments and keywords.
func skipPrefix(ws []*word) []*word {
	for len(ws) > 0 && (prefixWords[ws[0].text] || assignRE.MatchString(ws[0].text)) {
		ws = ws[1:]
	}
	return ws
}

// normName returns the program name of a command word: base name, lower case, without
// a Windows extension, python3.12 as python.
func normName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToLower(s)
	for _, ext := range []string{".exe", ".cmd", ".bat", ".ps1"} {
		if t, ok := strings.CutSuffix(s, ext); ok {
			s = t
			break
		}
	}
	switch {
	case strings.HasPrefix(s, "python") && strings.Trim(s[len("python"):], "0123456789.") == "":
		return "python"
	case s == "nodejs":
		return "node"
	}
	return s
}

// skipOpts skips the options at the front of args; withValue lists the options that
// take the next word as their value.
func skipOpts(args []*word, withValue []string) []*word {
	for i := 0; i < len(args); i++ {
		t := args[i].text
		switch {
		case t == "--":
			return args[i+1:]
		case !strings.HasPrefix(t, "-") || t == "-":
			return args[i:]
		case slices.Contains(withValue, t):
			i++
		}
	}
	return nil
}

var (
	privilegeOpts = []string{"-u", "-g", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-R", "--user", "--group",
		"--prompt", "--close-from", "--chdir", "--role", "--type", "--other-user", "--command-timeout", "--chroot"}
	wrapperOpts = map[string][]string{
		"nohup": nil, "setsid": nil, "exec": {"-a"}, "command": nil, "builtin": nil, "time": {"-f", "-o"},
		"nice": {"-n", "--adjustment"}, "ionice": {"-c", "-n", "-t"}, "stdbuf": {"-i", "-o", "-e"},
		"timeout": {"-s", "-k", "--signal", "--kill-after"}, "busybox": nil, "chrt": nil, "taskset": nil,
		"xargs": {"-I", "-L", "-n", "-P", "-s", "-d", "-E", "-a", "--max-args", "--max-procs", "--delimiter", "--arg-file"},
	}
	// wrapperArgs is how many operands a wrapper takes before the command.
	wrapperArgs = map[string]int{"timeout": 1, "chrt": 1, "taskset": 1}
)

// command analyzes one simple command and returns what it effectively runs. top says
// ws is the Command's own argv, which no shell parses.
func (a *analyzer) command(ws []*word, depth int, top bool) effective {
	if depth > maxDepth {
		return effective{}
	}
	if !top {
		ws = skipPrefix(ws)
	}
	if len(ws) == 0 {
		return effective{}
	}
	w0, args := ws[0], ws[1:]
	e := effective{name: normName(w0.text), word: w0, args: args}
	if subsFetch(w0, depth) {
		a.addWord(w0, DownloadExec, Danger, whyRunOutput)
	}
	if !top && strings.ContainsAny(w0.text, `/\`) {
		a.writable(w0)
	}
	switch e.name {
	case "sudo", "doas", "pkexec", "gsudo":
		a.addWord(w0, Privilege, Danger, whyPrivilege)
		if rest := skipOpts(args, privilegeOpts); len(rest) > 0 {
			return a.command(rest, depth+1, false)
		}
	case "su":
		a.addWord(w0, Privilege, Danger, whySu)
		for i, w := range args {
			switch {
			case w.text == "-c" || w.text == "--command":
				if i+1 < len(args) {
					a.script(args[i+1], depth+1)
				}
				return e
			case strings.HasPrefix(w.text, "--command="):
				a.script(w.slice(len("--command="), len(w.text)), depth+1)
				return e
			}
		}
	case "runas":
		a.addWord(w0, Privilege, Danger, whyRunas)
		if n := len(args); n > 0 && !strings.HasPrefix(args[n-1].text, "/") {
			a.script(args[n-1], depth+1)
		}
	case "env":
		return a.envCmd(e, depth)
	case "nohup", "setsid", "exec", "command", "builtin", "time", "nice", "ionice", "stdbuf", "timeout", "busybox", "chrt", "taskset", "xargs":
		if e.name == "command" && len(args) > 0 && (args[0].text == "-v" || args[0].text == "-V") {
			return e
		}
		rest := skipOpts(args, wrapperOpts[e.name])
		if n := wrapperArgs[e.name]; len(rest) > n {
			return a.command(rest[n:], depth+1, false)
		}
	case "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh":
		return a.shell(e, depth)
	case "cmd":
		a.cmdExe(e, depth)
	case "powershell", "pwsh":
		return a.powershell(e, depth)
	case "eval", "iex", "invoke-expression":
		return a.eval(e, depth)
	case "source", ".":
		if len(args) > 0 && subsFetch(args[0], depth) {
			a.addFrom(w0, args[0], DownloadExec, Danger, whyShellFetch)
		}
	case "python", "node", "perl", "ruby", "php":
		return a.interpreter(e, depth)
	case "rm", "remove-item", "ri", "rmdir", "rd", "del", "erase":
		a.remove(e)
	case "mkfs", "mke2fs", "newfs":
		a.addWord(w0, Destructive, Danger, whyMkfs)
	case "wipefs":
		a.addWord(w0, Destructive, Danger, whyWipefs)
	case "shred":
		a.addWord(w0, Destructive, Danger, whyShred)
	case "dd":
		for _, w := range args {
			if v, ok := strings.CutPrefix(w.text, "of="); ok && isDiskDevice(v) {
				a.addWord(w, Destructive, Danger, whyDiskWrite)
			}
		}
	case "chmod":
		a.chmod(e)
	case "find":
		for i, w := range args {
			switch w.text {
			case "-exec", "-execdir", "-ok", "-okdir":
				j := i + 1
				for j < len(args) && args[j].text != ";" && args[j].text != "+" {
					j++
				}
				a.command(args[i+1:j], depth+1, false)
			}
		}
	case "npx", "bunx", "pnpx":
		a.npx(args)
	case "npm", "pnpm", "yarn", "bun":
		if len(args) > 0 {
			sub := args[0].text
			if e.name == "npm" && (sub == "exec" || sub == "x") || (e.name == "pnpm" || e.name == "yarn") && sub == "dlx" || e.name == "bun" && sub == "x" {
				a.npx(args[1:])
			}
		}
	case "uvx":
		a.pyTool(args, "--from", uvValueOpts)
	case "uv":
		if len(args) >= 2 && args[0].text == "tool" && args[1].text == "run" {
			a.pyTool(args[2:], "--from", uvValueOpts)
		}
	case "pipx":
		if len(args) >= 1 && args[0].text == "run" {
			a.pyTool(args[1:], "--spec", pipxValueOpts)
		}
	case "go":
		if len(args) >= 1 && args[0].text == "run" {
			a.goRun(args[1:])
		}
	case "docker", "podman", "nerdctl":
		a.docker(args)
	default:
		if strings.HasPrefix(e.name, "mkfs.") {
			a.addWord(w0, Destructive, Danger, whyMkfs)
		}
	}
	return e
}

// credentialWords finds credentials given as flag values (--token X, --password=X) and
// as assignments to secret names (GITHUB_TOKEN=X).
func (a *analyzer) credentialWords(ws []*word) {
	for i, w := range ws {
		t := w.text
		sev := Danger
		if w.loc.Field == FieldEnv {
			sev = Warn
		}
		switch {
		case strings.HasPrefix(t, "--") && len(t) > 2:
			name, val, hasEq := strings.Cut(t[2:], "=")
			if !secretName(name, true) {
				continue
			}
			if hasEq {
				if credentialValue(val) {
					a.addPart(w, len(t)-len(val), len(t), PlaintextCredential, sev, whyArgCredential)
				}
			} else if i+1 < len(ws) && !strings.HasPrefix(ws[i+1].text, "-") && credentialValue(ws[i+1].text) {
				a.addWord(ws[i+1], PlaintextCredential, sev, whyArgCredential)
			}
		case assignRE.MatchString(t):
			name, val, _ := strings.Cut(t, "=")
			if secretName(name, false) && credentialValue(val) {
				a.addPart(w, len(name)+1, len(t), PlaintextCredential, sev, whyArgCredential)
			}
		}
	}
}

// credentialValue reports whether v, the value of a secret-named flag or variable, is a
// secret itself rather than a reference, a placeholder or a path to a file.
func credentialValue(v string) bool { return !isReference(v) && !isLocalPath(v) }

var driveRE = regexp.MustCompile(`^[A-Za-z]:[\\/]`)

// isLocalPath reports whether s is a file system path rather than a package name.
func isLocalPath(s string) bool {
	for _, p := range []string{"./", "../", "/", "~", `\`, ".\\", "..\\", "file:"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return s == "." || s == ".." || driveRE.MatchString(s)
}

func (a *analyzer) envCmd(e effective, depth int) effective {
	args := e.args
	for i := 0; i < len(args); i++ {
		t := args[i].text
		switch {
		case t == "-S" || t == "--split-string":
			if i+1 < len(args) {
				a.script(args[i+1], depth+1)
			}
			return e
		case strings.HasPrefix(t, "--split-string="):
			a.script(args[i].slice(len("--split-string="), len(t)), depth+1)
			return e
		case t == "-u" || t == "--unset" || t == "-C" || t == "--chdir":
			i++
		case t == "--":
			if i+1 < len(args) {
				return a.command(args[i+1:], depth+1, false)
			}
			return e
		case strings.HasPrefix(t, "-") || assignRE.MatchString(t):
		default:
			return a.command(args[i:], depth+1, false)
		}
	}
	return e
}

// shell handles sh, bash and friends: a -c script, a script file, or a script on stdin.
func (a *analyzer) shell(e effective, depth int) effective {
	var (
		script      *word
		hasC, stdin bool
	)
args:
	for i := 0; i < len(e.args); i++ {
		w := e.args[i]
		t := w.text
		switch {
		case t == "-":
			stdin = true
			break args
		case t == "--":
			if i+1 < len(e.args) {
				script = e.args[i+1]
			}
			break args
		case t == "-o" || t == "+o" || t == "-O" || t == "+O" || t == "--rcfile" || t == "--init-file":
			i++
		case t == "--command":
			hasC = true
		case strings.HasPrefix(t, "--command="):
			a.script(w.slice(len("--command="), len(t)), depth+1)
			return e
		case strings.HasPrefix(t, "--"):
		case len(t) > 1 && (t[0] == '-' || t[0] == '+'):
			if t[0] == '-' && strings.ContainsRune(t[1:], 'c') {
				hasC = true
			}
			if t[0] == '-' && strings.ContainsRune(t[1:], 's') {
				stdin = true
			}
		default:
			script = w
			break args
		}
	}
	switch {
	case hasC:
		if script != nil {
			a.script(script, depth+1)
		}
	case stdin || script == nil:
		e.readsStdin = true
	case subsFetch(script, depth):
		a.addFrom(e.word, script, DownloadExec, Danger, whyShellFetch)
	default:
		a.writable(script)
	}
	return e
}

// cmdExe handles cmd /c: one argument is a script; several are a command line that
// cmd.exe joins and parses again.
func (a *analyzer) cmdExe(e effective, depth int) {
	for i, w := range e.args {
		t := strings.ToLower(w.text)
		switch {
		case t == "/c" || t == "/k" || t == "/r":
			rest := e.args[i+1:]
			if len(rest) == 1 {
				a.script(rest[0], depth+1)
			} else {
				a.list(splitWords(rest), depth+1)
			}
			return
		case !strings.HasPrefix(t, "/"):
			return
		}
	}
}

// splitWords groups words into commands at words that are shell operators.
func splitWords(ws []*word) []*cmd {
	var out []*cmd
	cur, piped := &cmd{}, false
	for _, w := range ws {
		switch w.text {
		case "|", "||", "&&", "&", ";":
			if len(cur.words) > 0 {
				cur.piped = piped
				out = append(out, cur)
				cur = &cmd{}
			}
			piped = w.text == "|"
		default:
			cur.words = append(cur.words, w)
		}
	}
	if len(cur.words) > 0 {
		cur.piped = piped
		out = append(out, cur)
	}
	return out
}

var psValueOpts = []string{"executionpolicy", "windowstyle", "version", "psconsolefile", "configurationname",
	"workingdirectory", "outputformat", "inputformat", "settingsfile", "custompipename"}

// powershell handles powershell and pwsh: -Command, -EncodedCommand and -File.
func (a *analyzer) powershell(e effective, depth int) effective {
	args := e.args
	for i := 0; i < len(args); i++ {
		t := args[i].text
		if t == "-" {
			e.readsStdin = true
			return e
		}
		if !strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "/") {
			if e.name == "pwsh" { // pwsh takes a script file by default
				a.writable(args[i])
			} else {
				a.psCommand(args[i:], depth)
			}
			return e
		}
		opt := strings.ToLower(strings.TrimLeft(t, "-/"))
		switch {
		case opt == "c" || len(opt) >= 3 && strings.HasPrefix("command", opt):
			rest := args[i+1:]
			if len(rest) == 1 && rest[0].text == "-" {
				e.readsStdin = true
			}
			a.psCommand(rest, depth)
			return e
		case opt == "ec" || opt != "" && strings.HasPrefix("encodedcommand", opt):
			if i+1 < len(args) {
				a.addWord(args[i+1], DownloadExec, Danger, whyEncoded)
			}
			return e
		case opt == "f" || len(opt) >= 2 && strings.HasPrefix("file", opt):
			if i+1 < len(args) {
				a.writable(args[i+1])
			}
			return e
		case slices.Contains([]string{"ep", "wd", "of", "if", "w", "v", "o"}, opt):
			i++
		default:
			for _, full := range psValueOpts {
				if len(opt) >= 2 && strings.HasPrefix(full, opt) {
					i++
					break
				}
			}
		}
	}
	e.readsStdin = true
	return e
}

func (a *analyzer) psCommand(rest []*word, depth int) {
	switch len(rest) {
	case 0:
	case 1:
		a.script(rest[0], depth+1)
	default:
		a.list(splitWords(rest), depth+1)
	}
}

// eval handles eval and PowerShell's Invoke-Expression.
func (a *analyzer) eval(e effective, depth int) effective {
	if len(e.args) == 0 {
		e.readsStdin = e.name != "eval"
		return e
	}
	for _, w := range e.args {
		if subsFetch(w, depth) {
			a.addFrom(e.word, w, DownloadExec, Danger, whyEvalFetch)
			return e
		}
	}
	a.addWord(e.word, DownloadExec, Warn, whyEval)
	for _, w := range e.args {
		if !strings.HasPrefix(w.text, "-") {
			a.script(w, depth+1)
		}
	}
	return e
}

// subsFetch reports whether a substitution in w downloads or decodes something, so that
// w's value is code nobody has seen.
func subsFetch(w *word, depth int) bool {
	if depth > maxDepth {
		return false
	}
	for _, sub := range w.subs {
		for _, c := range sub {
			if sourceKind(c.words, 0) != "" {
				return true
			}
			for _, x := range c.words {
				if subsFetch(x, depth+1) {
					return true
				}
			}
		}
	}
	return false
}

// sourceKind says whether a command downloads ("download") or decodes ("decode")
// something, as the start of curl … | sh or base64 -d | sh.
func sourceKind(ws []*word, depth int) string {
	ws = skipPrefix(ws)
	if len(ws) == 0 || depth > maxDepth {
		return ""
	}
	switch normName(ws[0].text) {
	case "sudo", "doas", "env", "command", "exec", "nohup":
		return sourceKind(skipOpts(ws[1:], privilegeOpts), depth+1)
	case "curl", "wget", "fetch", "iwr", "irm", "invoke-webrequest", "invoke-restmethod":
		return "download"
	case "base64", "gbase64":
		for _, w := range ws[1:] {
			t := w.text
			if t == "--decode" || strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "--") && strings.ContainsAny(t, "dD") {
				return "decode"
			}
		}
	case "xxd":
		for _, w := range ws[1:] {
			if w.text == "-r" || w.text == "-revert" {
				return "decode"
			}
		}
	case "openssl":
		for _, w := range ws[1:] {
			if w.text == "-d" {
				return "decode"
			}
		}
	}
	for _, w := range ws {
		if l := strings.ToLower(w.text); strings.Contains(l, "downloadstring") || strings.Contains(l, "downloaddata") {
			return "download"
		}
	}
	return ""
}

var (
	codeFlags = map[string][]string{
		"python": {"-c"}, "node": {"-e", "--eval", "-p", "--print"}, "perl": {"-e", "-E"}, "ruby": {"-e"}, "php": {"-r"},
	}
	interpValueFlags = map[string][]string{
		"python": {"-W", "-X"},
		"node":   {"-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions", "--input-type", "--env-file", "--title"},
		"perl":   {"-I", "-M", "-m"},
		"ruby":   {"-I", "-r", "-C", "-E"},
		"php":    {"-c", "-d", "-z"},
	}
	codeFetchRE = regexp.MustCompile(`(?i)urllib|urlopen|requests\.(?:get|post)|http\.client|httpx|\bfetch\s*\(|\bhttps?\.get\s*\(|axios|LWP::|HTTP::Tiny|Net::HTTP|open-uri|URI\.open|file_get_contents\s*\(\s*['"]https?:|curl_exec|Invoke-WebRequest|DownloadString`)
	// codeShellRE finds a shell command given as a string literal to a function that
	// runs it through a shell: Python os.system/os.popen/subprocess (the command string),
	// Node child_process exec/execSync/spawn with shell, Perl/Ruby/PHP system, exec,
	// shell_exec, passthru and popen. A literal with an escaped quote
	// inside ends early: less is analyzed, nothing is invented.
	codeShellRE = regexp.MustCompile(`\b(os\.system|os\.popen|subprocess\.[a-z_]+|execSync|execFileSync|exec|spawnSync|spawn|system|shell_exec|passthru|popen|proc_open)\s*[\(\[{]?\s*(?:\[\s*)?(?:'([^'\n]*)'|"([^"\n]*)"|` + "`" + `([^` + "`" + `\n]*)` + "`" + `)`)
	codeExecRE  = regexp.MustCompile(`\bexec\s*\(|\beval\b|\bnew\s+Function\b|\bFunction\s*\(|vm\.runIn`)
)

// interpreter handles python, node, perl, ruby and php: inline code, a script file, or
// code on stdin.
func (a *analyzer) interpreter(e effective, depth int) effective {
	args := e.args
	for i := 0; i < len(args); i++ {
		w := args[i]
		t := w.text
		switch {
		case t == "-":
			e.readsStdin = true
			return e
		case e.name == "python" && strings.HasPrefix(t, "-m"):
			return e
		case e.name == "php" && t == "-f":
			if i+1 < len(args) {
				a.writable(args[i+1])
			}
			return e
		case e.name == "perl" && len(t) > 2 && t[0] == '-' && t[1] != '-' && strings.ContainsAny(t[len(t)-1:], "eE"):
			if i+1 < len(args) {
				a.code(args[i+1], depth)
			}
			return e
		}
		for _, f := range codeFlags[e.name] {
			if t == f {
				if i+1 < len(args) {
					a.code(args[i+1], depth)
				}
				return e
			}
			if strings.HasPrefix(f, "--") && strings.HasPrefix(t, f+"=") {
				a.code(w.slice(len(f)+1, len(t)), depth)
				return e
			}
		}
		switch {
		case slices.Contains(interpValueFlags[e.name], t):
			i++
		case strings.HasPrefix(t, "-"):
		default:
			a.writable(w)
			return e
		}
	}
	e.readsStdin = true
	return e
}

// code flags inline code that both fetches from the network and runs what it gets, and
// analyzes as a shell script each string literal the code hands to a shell
// (os.system('rm -rf ~'), execSync("curl … | sh"), system "sudo …").
func (a *analyzer) code(w *word, depth int) {
	if codeFetchRE.MatchString(w.text) && codeExecRE.MatchString(w.text) {
		a.addWord(w, DownloadExec, Danger, whyCodeFetch)
	}
	if depth >= maxDepth {
		return
	}
	for _, m := range codeShellRE.FindAllStringSubmatchIndex(w.text, -1) {
		// m[2:4] is the call, then one of three quoted forms.
		for g := 4; g+1 < len(m); g += 2 {
			if m[g] >= 0 {
				a.script(w.slice(m[g], m[g+1]), depth+1)
				break
			}
		}
	}
}

// remove handles rm -rf and its Windows forms: rd /s /q, Remove-Item -Recurse -Force.
func (a *analyzer) remove(e effective) {
	var r, f, winS, winQ bool
	for _, w := range e.args {
		t, lt := w.text, strings.ToLower(w.text)
		if t == "--" {
			return
		}
		switch {
		case lt == "--recursive":
			r = true
		case lt == "--force":
			f = true
		case len(lt) >= 4 && strings.HasPrefix("-recurse", lt):
			r = true
		case len(lt) >= 3 && strings.HasPrefix("-force", lt):
			f = true
		case lt == "/s":
			winS = true
		case lt == "/q":
			winQ = true
		case strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "--"):
			r = r || strings.ContainsAny(t[1:], "rR")
			f = f || strings.ContainsRune(t[1:], 'f')
		}
		if r && f || winS && winQ {
			a.addFrom(e.word, w, Destructive, Danger, whyRemove)
			return
		}
	}
}

var modeRE = regexp.MustCompile(`^[0-7]{3,4}$`)

// worldWritableMode reports whether a chmod mode grants write to everyone.
func worldWritableMode(m string) bool {
	if modeRE.MatchString(m) {
		return strings.IndexByte("2367", m[len(m)-1]) >= 0
	}
	for _, clause := range strings.Split(m, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 || strings.Trim(clause[:i], "ugoa") != "" || strings.Trim(clause[i+1:], "rwxXstugo+-=") != "" {
			return false
		}
		who, op, perms := clause[:i], clause[i], clause[i+1:]
		if j := strings.IndexAny(perms, "+-="); j >= 0 {
			perms = perms[:j]
		}
		if op != '-' && strings.ContainsRune(perms, 'w') && (who == "" || strings.ContainsAny(who, "oa")) {
			return true
		}
	}
	return false
}

func (a *analyzer) chmod(e effective) {
	var rec, mode *word
	for _, w := range e.args {
		t := w.text
		switch {
		case t == "--recursive" || strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "--") && strings.ContainsRune(t, 'R'):
			if rec == nil {
				rec = w
			}
		case mode == nil && worldWritableMode(t):
			mode = w
		}
		if rec != nil && mode != nil {
			a.addFrom(e.word, w, Destructive, Danger, whyChmod)
			return
		}
	}
}

var diskPrefixes = []string{"sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "rdisk", "md", "dm-", "mapper/", "loop", "nbd", "mem", "kmem", "port"}

// isDiskDevice reports whether p names a disk (or memory) device, where writing destroys
// data.
func isDiskDevice(p string) bool {
	if strings.HasPrefix(strings.ToLower(p), `\\.\physicaldrive`) {
		return true
	}
	rest, ok := strings.CutPrefix(p, "/dev/")
	if !ok {
		return false
	}
	for _, d := range diskPrefixes {
		if strings.HasPrefix(rest, d) {
			return true
		}
	}
	return false
}

var npxValueOpts = []string{"-c", "--call", "--cache", "--registry", "--userconfig", "--prefix",
	"--node-options", "--shell", "--script-shell", "-w", "--workspace"}

// npx handles npx, bunx, npm exec, pnpm dlx, yarn dlx and bun x: the packages fetched
// must name an exact version.
func (a *analyzer) npx(args []*word) {
	type spec struct {
		w  *word
		at int // where the spec starts in w.text
	}
	var (
		pkgs  []spec
		first *word
	)
opts:
	for i := 0; i < len(args); i++ {
		w := args[i]
		t := w.text
		switch {
		case t == "--":
			if i+1 < len(args) {
				first = args[i+1]
			}
			break opts
		case strings.HasPrefix(t, "--package="):
			pkgs = append(pkgs, spec{w, len("--package=")})
		case t == "-p" || t == "--package":
			if i+1 < len(args) {
				pkgs = append(pkgs, spec{args[i+1], 0})
				i++
			}
		case slices.Contains(npxValueOpts, t):
			i++
		case strings.HasPrefix(t, "-"):
		default:
			first = w
			break opts
		}
	}
	if len(pkgs) == 0 && first != nil {
		pkgs = append(pkgs, spec{first, 0})
	}
	for _, p := range pkgs {
		if !npmPinned(p.w.text[p.at:]) {
			a.addPart(p.w, p.at, len(p.w.text), UnpinnedPackage, Warn, whyNpx)
		}
	}
}

var (
	exactVersionRE = regexp.MustCompile(`^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$`)
	commitRE       = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// npmPinned reports whether an npm package spec names one exact version (or is local).
func npmPinned(s string) bool {
	if s == "" || isLocalPath(s) || strings.ContainsAny(s, "$%") {
		return true
	}
	s = strings.TrimPrefix(s, "npm:")
	gitLike := strings.Contains(s, "://") || !strings.HasPrefix(s, "@") && strings.Contains(s, "/")
	for _, p := range []string{"git+", "git:", "github:", "gitlab:", "bitbucket:", "gist:"} {
		gitLike = gitLike || strings.HasPrefix(s, p)
	}
	if gitLike {
		_, frag, ok := strings.Cut(s, "#")
		return ok && commitRE.MatchString(frag)
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && exactVersionRE.MatchString(s[at+1:])
}

var (
	uvValueOpts = []string{"--with", "--with-editable", "--with-requirements", "--python", "-p", "--index",
		"--index-url", "-i", "--extra-index-url", "--default-index", "--find-links", "-f", "--directory",
		"--project", "--config-file", "--cache-dir", "--constraints", "--overrides", "--build-constraints",
		"--index-strategy", "--keyring-provider", "--resolution", "--prerelease", "--exclude-newer",
		"--refresh-package", "--reinstall-package", "--upgrade-package", "-P", "--python-platform",
		"--env-file", "--color", "--allow-insecure-host", "--link-mode", "--config-setting", "-C"}
	pipxValueOpts = []string{"--python", "--index-url", "-i", "--pip-args", "--backend"}
)

// pyTool handles uvx, uv tool run and pipx run; fromFlag names the option that gives the
// package when the first operand is only the command to run.
func (a *analyzer) pyTool(args []*word, fromFlag string, valueOpts []string) {
	var (
		target *word
		at     int
		first  *word
	)
opts:
	for i := 0; i < len(args); i++ {
		w := args[i]
		t := w.text
		switch {
		case t == fromFlag:
			if i+1 < len(args) {
				target, at = args[i+1], 0
				i++
			}
		case strings.HasPrefix(t, fromFlag+"="):
			target, at = w, len(fromFlag)+1
		case slices.Contains(valueOpts, t):
			i++
		case t == "--":
			if i+1 < len(args) {
				first = args[i+1]
			}
			break opts
		case strings.HasPrefix(t, "-"):
		default:
			first = w
			break opts
		}
	}
	if target == nil {
		target, at = first, 0
	}
	if target != nil && !pyPinned(target.text[at:]) {
		a.addPart(target, at, len(target.text), UnpinnedPackage, Warn, whyPyTool)
	}
}

// pyPinned reports whether a Python requirement names one exact version (==1.2.3 or
// @1.2.3), a commit, or a local path.
func pyPinned(s string) bool {
	if s == "" || isLocalPath(s) || strings.ContainsAny(s, "$%") {
		return true
	}
	if strings.Contains(s, "://") || strings.HasPrefix(s, "git+") {
		s, _, _ = strings.Cut(s, "#")
		at, slash := strings.LastIndexByte(s, '@'), strings.LastIndexByte(s, '/')
		return at > slash && commitRE.MatchString(s[at+1:])
	}
	if i := strings.Index(s, "=="); i >= 0 {
		v := strings.TrimPrefix(s[i+2:], "=")
		return v != "" && !strings.ContainsAny(v, "*,<>!~ ;")
	}
	if i := strings.LastIndexByte(s, '@'); i > 0 {
		v := s[i+1:]
		return v != "" && v[0] >= '0' && v[0] <= '9' && !strings.ContainsAny(v, "*,<>!~ ;")
	}
	return false
}

var (
	goValueFlags = []string{"-C", "-o", "-p", "-tags", "-ldflags", "-gcflags", "-asmflags", "-mod", "-modfile",
		"-exec", "-overlay", "-pkgdir", "-toolexec", "-pgo", "-buildmode", "-compiler", "-gccgoflags",
		"-installsuffix", "-coverpkg", "-covermode"}
	goVersionRE = regexp.MustCompile(`^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$`)
)

// goRun handles go run pkg@version, which must name a version.
func (a *analyzer) goRun(args []*word) {
	for i := 0; i < len(args); i++ {
		t := args[i].text
		switch {
		case slices.Contains(goValueFlags, t):
			i++
		case strings.HasPrefix(t, "-"):
		default:
			if at := strings.LastIndexByte(t, '@'); at > 0 && !goVersionRE.MatchString(t[at+1:]) && !commitRE.MatchString(t[at+1:]) {
				a.addWord(args[i], UnpinnedPackage, Warn, whyGoRun)
			}
			return
		}
	}
}
