package remote

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// event is one server-sent event.
type event struct {
	name     string
	id       string
	hasID    bool
	retry    time.Duration
	hasRetry bool
	data     []byte // without the final newline; only the start when tooLarge > 0
	hasData  bool
	tooLarge int // the data's size when it exceeded the cap, else 0
}

// sseReader reads server-sent events, holding at most max bytes of one event's data.
type sseReader struct {
	r   *bufio.Reader
	max int
}

// headSize is how much of an oversized event is kept to recover its id.
const headSize = 4 << 10

// fieldLimit caps the value of the id, event and retry fields.
const fieldLimit = 1 << 10

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next event. An event cut short by the end of the stream is
// dropped, as the SSE specification says; the stream's end is io.EOF.
func (s *sseReader) next() (*event, error) {
	var ev event
	started := false
	for {
		frag, err := s.r.ReadSlice('\n')
		full := err == nil
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(frag) == 0 {
				return nil, io.EOF
			}
			if errors.Is(err, io.EOF) {
				return nil, io.EOF // an incomplete line: the event is incomplete
			}
			return nil, err
		}
		line := frag
		if full {
			line = trimEOL(line)
			if len(line) == 0 {
				if !started {
					continue
				}
				if ev.hasData && ev.tooLarge == 0 {
					ev.data = bytes.TrimSuffix(ev.data, []byte("\n"))
				}
				return &ev, nil
			}
		}
		started = true
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch {
		case len(name) == 0: // a comment
			if err := s.skip(full); err != nil {
				return nil, err
			}
		case string(name) == "data":
			if err := s.data(&ev, value, full); err != nil {
				return nil, err
			}
		case string(name) == "id" || string(name) == "event" || string(name) == "retry":
			v := append([]byte(nil), value...)
			long := false
			for !full {
				frag, err = s.r.ReadSlice('\n')
				full = err == nil
				if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
					return nil, eofAsUnexpected(err)
				}
				if len(v) < fieldLimit {
					v = append(v, frag...)
				} else {
					long = true
				}
			}
			v = trimEOL(v)
			if long || len(v) > fieldLimit {
				continue // not a value any server means
			}
			switch string(name) {
			case "id":
				if bytes.IndexByte(v, 0) < 0 {
					ev.id, ev.hasID = string(v), true
				}
			case "event":
				ev.name = string(v)
			case "retry":
				if n, err := strconv.ParseUint(string(v), 10, 31); err == nil {
					ev.retry, ev.hasRetry = time.Duration(n)*time.Millisecond, true
				}
			}
		default:
			if err := s.skip(full); err != nil {
				return nil, err
			}
		}
	}
}

// data appends one data line, whose first fragment is value, to ev.
func (s *sseReader) data(ev *event, value []byte, full bool) error {
	if ev.hasData {
		s.appendData(ev, []byte("\n"))
	}
	ev.hasData = true
	start := len(ev.data)
	for {
		if full {
			value = trimEOL(value)
		}
		s.appendData(ev, value)
		if full {
			break
		}
		frag, err := s.r.ReadSlice('\n')
		full = err == nil
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return eofAsUnexpected(err)
		}
		value = frag
	}
	// A CRLF split across two fragments leaves its CR behind.
	if ev.tooLarge == 0 && len(ev.data) > start && ev.data[len(ev.data)-1] == '\r' {
		ev.data = ev.data[:len(ev.data)-1]
	}
	return nil
}

func (s *sseReader) appendData(ev *event, b []byte) {
	if ev.tooLarge > 0 {
		ev.tooLarge += len(b)
		return
	}
	if len(ev.data)+len(b) > s.max {
		ev.tooLarge = len(ev.data) + len(b)
		head := append([]byte(nil), ev.data[:min(len(ev.data), headSize)]...)
		if n := headSize - len(head); n > 0 {
			head = append(head, b[:min(n, len(b))]...)
		}
		ev.data = head
		return
	}
	ev.data = append(ev.data, b...)
}

// skip discards the rest of a line.
func (s *sseReader) skip(full bool) error {
	for !full {
		_, err := s.r.ReadSlice('\n')
		full = err == nil
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return eofAsUnexpected(err)
		}
	}
	return nil
}

func eofAsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF // the stream ended inside an event, which is dropped
	}
	return err
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// sniffID recovers the id of a message from its first bytes, when "id" comes before
// any nested value (as every SDK writes it). The zero ID means not found.
func sniffID(head []byte) jsonrpc.ID {
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return jsonrpc.ID{}
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return jsonrpc.ID{}
		}
		if key == "id" {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil || len(raw) == 0 {
				return jsonrpc.ID{}
			}
			switch raw[0] {
			case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return jsonrpc.RawID(raw)
			}
			return jsonrpc.ID{}
		}
		if t, err := dec.Token(); err != nil {
			return jsonrpc.ID{}
		} else if _, nested := t.(json.Delim); nested {
			return jsonrpc.ID{}
		}
	}
	return jsonrpc.ID{}
}
