package guard

import (
	"strconv"
	"unicode/utf8"

	"github.com/airlock-mcp/airlock/store/jsontext"
)

// How much of arguments too large to log whole (over logArgsMax) the log keeps.
const (
	summaryStrMax   = 200  // bytes of one string or number
	summaryMax      = 2048 // bytes of the whole summary, give or take one value
	summaryInnerMax = 400  // bytes of the summary of JSON held in a string, give or take one value
	summaryDepth    = 16   // nesting below this is left out
	summaryNest     = 2    // levels summarised as JSON: the arguments, and JSON held in their strings
)

// summarizeArgs returns a shortened copy of args, a JSON value: every member name and the start
// of every value, in order, until the summary holds summaryMax bytes; a string or number
// longer than summaryStrMax keeps its start and says how long it was; what is left out
// is counted. A person reading the log sees that a call wrote path P with content C…, where
// the first 4 KiB of the text would show only the content.
//
// A string is cut only where white space is (see textCut): a run without any, such as a
// token, a password or a base64 blob, is kept or dropped whole, so the redactor, which
// recognises secrets whole, is never handed a fragment of one that it cannot recognise;
// keep (the redactor's KeepWhole) does the same for known secret values with spaces in
// them, such as a passphrase. The result is still to be redacted. ok is false when args
// is not valid JSON.
func summarizeArgs(args []byte, keep func(text string, cut int) int) (out []byte, ok bool) {
	s := summarizer{in: args, out: make([]byte, 0, 512), keep: keep, max: summaryMax}
	if !s.value(0) {
		return nil, false
	}
	if jsontext.SkipSpace(args, s.i) != len(args) {
		return nil, false
	}
	return s.out, true
}

type summarizer struct {
	in   []byte
	i    int
	out  []byte
	max  int  // the budget: summaryMax, or summaryInnerMax for JSON held in a string
	nest int  // how many strings holding JSON this summary is inside
	full bool // the summary has reached max: containers skip the rest
	// keep, if set, moves a cut in text to the left of any known secret it would split.
	keep func(text string, cut int) int
}

func (s *summarizer) value(depth int) bool {
	s.i = jsontext.SkipSpace(s.in, s.i)
	if s.i >= len(s.in) {
		return false
	}
	switch s.in[s.i] {
	case '{':
		return s.container(depth, '}')
	case '[':
		return s.container(depth, ']')
	case '"':
		return s.str()
	}
	end, ok := jsontext.SkipValue(s.in, s.i)
	if !ok || end == s.i {
		return false
	}
	if end-s.i > summaryStrMax { // a number thousands of digits long
		s.out = s.marker(s.out, "… ["+strconv.Itoa(end-s.i)+"-byte number]")
	} else {
		s.out = append(s.out, s.in[s.i:end]...)
	}
	s.i = end
	return true
}

// marker appends text as a JSON string (text holds nothing to escape).
func (s *summarizer) marker(out []byte, text string) []byte {
	return append(append(append(out, '"'), text...), '"')
}

func (s *summarizer) container(depth int, closer byte) bool {
	start := s.i
	if depth >= summaryDepth {
		end, ok := jsontext.SkipValue(s.in, s.i)
		if !ok {
			return false
		}
		s.i = end
		s.out = s.marker(s.out, "… ["+strconv.Itoa(end-start)+" bytes nested deeper]")
		return true
	}
	s.out = append(s.out, s.in[s.i])
	s.i++
	for n := 0; ; n++ {
		s.i = jsontext.SkipSpace(s.in, s.i)
		if s.i >= len(s.in) {
			return false
		}
		if s.in[s.i] == closer {
			s.i++
			s.out = append(s.out, closer)
			return true
		}
		if n > 0 {
			if s.in[s.i] != ',' {
				return false
			}
			s.i++
		}
		if s.full {
			return s.skipRest(closer, n > 0)
		}
		if n > 0 {
			s.out = append(s.out, ',')
		}
		if closer == '}' {
			s.i = jsontext.SkipSpace(s.in, s.i)
			if s.i >= len(s.in) || s.in[s.i] != '"' || !s.str() {
				return false
			}
			s.i = jsontext.SkipSpace(s.in, s.i)
			if s.i >= len(s.in) || s.in[s.i] != ':' {
				return false
			}
			s.i++
			s.out = append(s.out, ':')
		}
		if !s.value(depth + 1) {
			return false
		}
		if len(s.out) >= s.max {
			s.full = true
		}
	}
}

// skipRest skips the members or elements left in a container (s.i is at the first of
// them), counts them in a last one, and closes the container.
func (s *summarizer) skipRest(closer byte, comma bool) bool {
	from := s.i
	for {
		end, ok := jsontext.SkipValue(s.in, s.i) // a member's name, or an element
		if !ok {
			return false
		}
		s.i = jsontext.SkipSpace(s.in, end)
		if closer == '}' {
			if s.i >= len(s.in) || s.in[s.i] != ':' {
				return false
			}
			if end, ok = jsontext.SkipValue(s.in, jsontext.SkipSpace(s.in, s.i+1)); !ok {
				return false
			}
			s.i = jsontext.SkipSpace(s.in, end)
		}
		if s.i >= len(s.in) {
			return false
		}
		if s.in[s.i] == closer {
			break
		}
		if s.in[s.i] != ',' {
			return false
		}
		s.i = jsontext.SkipSpace(s.in, s.i+1)
	}
	if comma {
		s.out = append(s.out, ',')
	}
	what := "… [" + strconv.Itoa(s.i-from) + " more bytes]"
	if closer == '}' {
		s.out = append(s.marker(s.out, "…"), ':')
	}
	s.out = append(s.marker(s.out, what), closer)
	s.i++
	return true
}

// str copies the string at s.i, shortened when longer than summaryStrMax.
func (s *summarizer) str() bool {
	start := s.i
	end, ok := jsontext.SkipString(s.in, start)
	if !ok {
		return false
	}
	s.i = end
	body := s.in[start+1 : end-1]
	if len(body) <= summaryStrMax {
		s.out = append(s.out, s.in[start:end]...)
		return true
	}
	// Decode the start of the string: the cut and the check for secrets it would split are
	// made on the text the redactor will see, however the client spelled it in JSON.
	k := 0
	for n := 0; k < len(body) && n < summaryStrMax+keepWindow; n++ {
		switch {
		case body[k] != '\\':
			k++
		case k+1 < len(body) && body[k+1] == 'u':
			k += 6
		default:
			k += 2
		}
	}
	k = min(k, len(body))
	tok := append(append(append(make([]byte, 0, k+2), '"'), body[:k]...), '"')
	text, ok := jsontext.Unquote(tok)
	if !ok { // not a string on its own (the input was not valid JSON): keep nothing of it
		text = ""
	}
	// A string that holds JSON (a request body, a config) is summarised as JSON, so that
	// the redactor can still see which values sit under secret-named fields (a cookie, a
	// password with spaces): cut as text, the JSON would be broken and redacted as text.
	if _, held := jsontext.HeldJSON(text); held && s.nest+1 < summaryNest {
		if full, ok := jsontext.Unquote(s.in[start:end]); ok {
			t, _ := jsontext.HeldJSON(full)
			in := summarizer{in: []byte(t), out: make([]byte, 0, 256), keep: s.keep, max: summaryInnerMax, nest: s.nest + 1}
			if in.value(0) && jsontext.SkipSpace(in.in, in.i) == len(in.in) {
				s.out = jsontext.AppendString(s.out, string(in.out))
				return true
			}
		}
	}
	whole := k == len(body)
	cut := textCut(text, summaryStrMax, whole)
	if s.keep != nil && (cut < len(text) || !whole) {
		for {
			c := s.keep(text, cut)
			if c == cut {
				break
			}
			cut = textCut(text[:c], summaryStrMax, true)
		}
	}
	s.out = jsontext.AppendString(s.out, text[:cut])
	if whole && cut == len(text) {
		return true // shorter once decoded
	}
	s.out = append(s.out[:len(s.out)-1], "… ["+strconv.Itoa(len(body))+" bytes]\""...)
	return true
}

// keepWindow is how much decoded text past summaryStrMax str gives keep to look at; a
// known secret running past the window's end is treated as running past the cut.
const keepWindow = 512

// textCut returns where to cut text, the start of a string that goes on after it unless
// whole, so that the kept part, written as a JSON string, takes at most max bytes: after or
// before white space (space, \n, \t, \r, \b, \f), never inside a run of anything else.
// A secret (a token, a base64 key, a password such as P@ss!w0rd) is such a run, so the
// cut keeps it whole, for the redactor to recognise, or drops it whole; a run longer than
// max is dropped whole. Cuts next to white space never split a UTF-8 sequence.
func textCut(text string, max int, whole bool) int {
	k, size, lastGap := 0, 0, 0
	for k < len(text) {
		c := text[k]
		n, w := 1, 1 // bytes in text, bytes written
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			w = 2
		case c < 0x20:
			w = 6
		case c >= utf8.RuneSelf:
			r, rn := utf8.DecodeRuneInString(text[k:])
			n, w = rn, rn
			if r == utf8.RuneError && rn == 1 || r == '\u2028' || r == '\u2029' {
				w = 6
			}
		}
		if size+w > max {
			break
		}
		if isGap(c) {
			lastGap = k // before it
		}
		k, size = k+n, size+w
		if isGap(c) {
			lastGap = k // after it
		}
	}
	if k == len(text) && whole || k < len(text) && isGap(text[k]) {
		return k
	}
	return lastGap
}

func isGap(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f'
}
