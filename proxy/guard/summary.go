package guard

import (
	"strconv"
	"strings"

	"github.com/airlock-mcp/airlock/store/jsontext"
)

// How much of arguments too large to log whole (over logArgsMax) the log keeps.
const (
	summaryStrMax = 200  // bytes of one string or number
	summaryMax    = 2048 // bytes of the whole summary, give or take one value
	summaryDepth  = 16   // nesting below this is left out
)

// summarizeArgs returns a shortened copy of args, a JSON value: every member name and the start
// of every value, in order, until the summary holds summaryMax bytes; a string or number
// longer than summaryStrMax keeps its start and says how long it was; what is left out
// is counted. A person reading the log sees that a call wrote path P with content C…, where
// the first 4 KiB of the text would show only the content.
//
// A string is cut only where white space is (see safeCut): a run without any, such as a
// token, a password or a base64 blob, is kept or dropped whole, so the redactor, which
// recognises secrets whole, is never handed a fragment of one that it cannot recognise. The result is still to be redacted. ok is false when args
// is not valid JSON.
func summarizeArgs(args []byte) (out []byte, ok bool) {
	s := summarizer{in: args, out: make([]byte, 0, 512)}
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
	full bool // the summary has reached summaryMax: containers skip the rest
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
		if len(s.out) >= summaryMax {
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
	cut := safeCut(body, summaryStrMax)
	s.out = append(append(s.out, '"'), body[:cut]...)
	s.out = append(s.out, "… ["+strconv.Itoa(len(body))+" bytes]\""...)
	return true
}

// safeCut returns where to cut the JSON string body b (without its quotes) to keep at
// most max bytes: after a space or an escaped white-space character (\n, \t, \r, \b,
// \f), never inside a run of anything else. A secret (a token, a base64 key, a password
// such as P@ss!w0rd) is a run of that kind, so the cut keeps it whole, for the redactor
// to recognise, or drops it whole; a run longer than max is dropped whole.
func safeCut(b []byte, max int) int {
	k, lastGap, gapAtEnd := 0, 0, false
	for k < len(b) {
		n, gap := 1, b[k] == ' '
		if b[k] == '\\' {
			n = 2
			if k+1 < len(b) {
				switch b[k+1] {
				case 'u':
					n = 6
				case 'n', 't', 'r', 'b', 'f':
					gap = true
				}
			}
		}
		if k+n > max {
			break
		}
		k += n
		gapAtEnd = gap
		if gap {
			lastGap = k
		}
	}
	if k == len(b) || gapAtEnd || b[k] == ' ' || b[k] == '\\' && k+1 < len(b) && strings.IndexByte("ntrbf", b[k+1]) >= 0 {
		return k // the cut falls between runs
	}
	return lastGap
}
