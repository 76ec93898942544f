package launch

import "strings"

// maxDepth bounds how deeply scripts inside scripts (sh -c "bash -c '…'", $(…), wrappers
// such as sudo) are followed.
const maxDepth = 8

// word is one shell word: its value after quote removal, mapped byte by byte back to the
// string it was read from (an argument, an env value), so that findings inside nested
// scripts point at the right bytes of the original.
type word struct {
	loc  Location
	text string
	off  []int // off[i] is the source offset of text[i]; nil means base+i
	base int
	raw  [2]int   // extent in the source, quotes included
	subs [][]*cmd // $(…), `…`, <(…) and (…) inside the word, parsed
}

// srcWord returns the whole of s, a string of the Command at loc, as one word.
func srcWord(loc Location, s string) *word {
	return &word{loc: loc, text: s, raw: [2]int{0, len(s)}}
}

func (w *word) at(i int) int {
	if w.off == nil {
		return w.base + i
	}
	return w.off[i]
}

// rng returns the source extent of text[a:b]; an empty range gives the word's extent.
func (w *word) rng(a, b int) (int, int) {
	if a >= b {
		return w.raw[0], w.raw[1]
	}
	return w.at(a), w.at(b-1) + 1
}

// whole returns the source extent of the word's value.
func (w *word) whole() (int, int) { return w.rng(0, len(w.text)) }

// slice returns text[a:b] as a word with the same mapping.
func (w *word) slice(a, b int) *word {
	s := &word{loc: w.loc, text: w.text[a:b]}
	if w.off == nil {
		s.base = w.base + a
	} else {
		s.off = w.off[a:b]
	}
	switch {
	case a < b:
		s.raw = [2]int{s.at(0), s.at(b-a-1) + 1}
	case a < len(w.text):
		s.raw = [2]int{w.at(a), w.at(a)}
	default:
		s.raw = [2]int{w.raw[1], w.raw[1]}
	}
	return s
}

// cmd is one simple command of a script.
type cmd struct {
	words  []*word
	redirs []redir
	piped  bool // its stdin is the previous command's stdout
}

// redir is a redirection such as "> /dev/sda".
type redir struct {
	loc    Location
	start  int   // source offset of the operator (or of its file descriptor number)
	target *word // nil when missing
}

// parse splits the script in w into simple commands, the way a POSIX shell roughly
// would: quotes, escapes, ; && || | & newlines, redirections, comments, subshells and
// command or process substitutions. It is forgiving: it never fails, and unterminated
// quotes or parentheses run to the end. cmd.exe and PowerShell scripts parse well enough
// for what Analyze looks for.
func parse(w *word, depth int) []*cmd {
	p := &parser{w: w, s: w.text, depth: depth, cur: &cmd{}}
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			p.i++
		case c == '\n' || c == ';':
			p.i++
			p.end(false)
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '|':
			p.i++
			if p.peek(0) == '|' {
				p.i++
				p.end(false)
				break
			}
			if p.peek(0) == '&' {
				p.i++
			}
			p.end(true)
		case c == '&':
			if p.peek(1) == '>' {
				p.redirect(p.i)
				break
			}
			p.i++
			if p.peek(0) == '&' {
				p.i++
			}
			p.end(false)
		case c == ')':
			p.i++
		case c == '(' && len(p.cur.words) == 0:
			j := closeParen(p.s, p.i)
			if p.depth < maxDepth {
				p.group(parse(p.w.slice(p.i+1, j), p.depth+1))
			}
			p.i = min(j+1, len(p.s))
		case (c == '<' || c == '>') && p.peek(1) != '(':
			p.redirect(p.i)
		default:
			start := p.i
			w, fd := p.readWord(true)
			if fd {
				p.redirect(start)
			} else if w != nil {
				p.cur.words = append(p.cur.words, w)
			}
		}
	}
	p.end(false)
	return p.out
}

type parser struct {
	w     *word
	s     string
	i     int
	depth int
	out   []*cmd
	cur   *cmd
	piped bool // the next command reads the previous one's output
}

func (p *parser) peek(n int) byte {
	if p.i+n < len(p.s) {
		return p.s[p.i+n]
	}
	return 0
}

// end finishes the current command; piped says whether a pipe follows it.
func (p *parser) end(piped bool) {
	if len(p.cur.words) == 0 && len(p.cur.redirs) == 0 {
		if piped {
			p.piped = true // "(curl x) | sh", or a pipe at the end of a line
		}
		return
	}
	p.cur.piped = p.piped
	p.out = append(p.out, p.cur)
	p.cur = &cmd{}
	p.piped = piped
}

// group adds the commands of a subshell.
func (p *parser) group(inner []*cmd) {
	if len(inner) > 0 {
		inner[0].piped = p.piped
		p.piped = false
		p.out = append(p.out, inner...)
	}
}

// redirect reads a redirection whose operator (with any file descriptor number) starts
// at opStart.
func (p *parser) redirect(opStart int) {
	i := p.i
	if i < len(p.s) && p.s[i] == '&' {
		i++
	}
	for n := 0; n < 3 && i < len(p.s) && (p.s[i] == '<' || p.s[i] == '>'); n++ {
		i++
	}
	if i < len(p.s) && (p.s[i] == '&' || p.s[i] == '|') {
		i++
	}
	if i == p.i {
		i++
	}
	p.i = i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	var target *word
	if p.i < len(p.s) && !strings.ContainsRune("|;&\n()<>", rune(p.s[p.i])) {
		target, _ = p.readWord(false)
	}
	p.cur.redirs = append(p.cur.redirs, redir{loc: p.w.loc, start: p.w.at(opStart), target: target})
}

// readWord reads one word. When allowFD is set and the word is a bare number right
// before < or >, it is a file descriptor: readWord reports fd and leaves p.i at the
// operator.
func (p *parser) readWord(allowFD bool) (w *word, fd bool) {
	start := p.i
	var (
		text   []byte
		off    []int
		subs   [][]*cmd
		quoted bool
	)
	add := func(a, b int) {
		for k := a; k < b && k < len(p.s); k++ {
			text = append(text, p.s[k])
			off = append(off, p.w.at(k))
		}
	}
	sub := func(a, b int) {
		if p.depth < maxDepth {
			subs = append(subs, parse(p.w.slice(a, b), p.depth+1))
		}
	}
	// substitution adds the construct that opens at open (a '(' or '`') and whose body
	// starts at body, and moves past it.
	substitution := func(from, open, body int) {
		var j int
		if p.s[open] == '`' {
			j = closeTick(p.s, open)
		} else {
			j = closeParen(p.s, open)
		}
		sub(body, j)
		end := min(j+1, len(p.s))
		add(from, end)
		p.i = end
	}
	if p.s[p.i] == '(' { // (…) in the middle of a command: a PowerShell subexpression
		substitution(p.i, p.i, p.i+1)
		return p.mk(start, text, off, subs), false
	}
loop:
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case ' ', '\t', '\r', '\n', ';', '|', '&', ')', '(':
			break loop
		case '<', '>':
			if p.peek(1) == '(' && len(text) == 0 && !quoted {
				substitution(p.i, p.i+1, p.i+2)
				continue
			}
			break loop
		case '\'':
			quoted = true
			j := strings.IndexByte(p.s[p.i+1:], '\'')
			end := len(p.s)
			if j >= 0 {
				end = p.i + 1 + j
			}
			add(p.i+1, end)
			p.i = min(end+1, len(p.s))
		case '"':
			quoted = true
			p.i++
			for p.i < len(p.s) && p.s[p.i] != '"' {
				switch {
				case p.s[p.i] == '\\' && p.i+1 < len(p.s) && strings.IndexByte("$`\"\\\n", p.s[p.i+1]) >= 0:
					add(p.i+1, p.i+2)
					p.i += 2
				case p.s[p.i] == '$' && p.peek(1) == '(':
					substitution(p.i, p.i+1, p.i+2)
				case p.s[p.i] == '`':
					substitution(p.i, p.i, p.i+1)
				default:
					add(p.i, p.i+1)
					p.i++
				}
			}
			if p.i < len(p.s) {
				p.i++
			}
		case '\\':
			quoted = true
			if p.i+1 < len(p.s) {
				if p.s[p.i+1] != '\n' {
					add(p.i+1, p.i+2)
				}
				p.i += 2
			} else {
				add(p.i, p.i+1)
				p.i++
			}
		case '$':
			switch p.peek(1) {
			case '(':
				substitution(p.i, p.i+1, p.i+2)
			case '{':
				end := len(p.s)
				if j := strings.IndexByte(p.s[p.i:], '}'); j >= 0 {
					end = p.i + j + 1
				}
				add(p.i, end)
				p.i = end
			default:
				add(p.i, p.i+1)
				p.i++
			}
		case '`':
			substitution(p.i, p.i, p.i+1)
		default:
			add(p.i, p.i+1)
			p.i++
		}
	}
	if p.i == start { // nothing readable here; step over it
		p.i++
		return nil, false
	}
	if allowFD && !quoted && p.i < len(p.s) && (p.s[p.i] == '<' || p.s[p.i] == '>') && allDigits(string(text)) {
		return nil, true
	}
	return p.mk(start, text, off, subs), false
}

func (p *parser) mk(start int, text []byte, off []int, subs [][]*cmd) *word {
	return &word{
		loc:  p.w.loc,
		text: string(text),
		off:  off,
		raw:  [2]int{p.w.at(start), p.w.at(p.i-1) + 1},
		subs: subs,
	}
}

// closeParen returns the index of the ')' matching the '(' at s[i], or len(s).
func closeParen(s string, i int) int {
	depth := 0
	for k := i; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case '\'':
			j := strings.IndexByte(s[k+1:], '\'')
			if j < 0 {
				return len(s)
			}
			k += j + 1
		case '"':
			for k++; k < len(s) && s[k] != '"'; k++ {
				if s[k] == '\\' {
					k++
				}
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return len(s)
}

// closeTick returns the index of the '`' closing the one at s[i], or len(s).
func closeTick(s string, i int) int {
	for k := i + 1; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case '`':
			return k
		}
	}
	return len(s)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
