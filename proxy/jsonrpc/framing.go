package jsonrpc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// DefaultMaxMessageSize is the default cap on one message: far above anything a legal MCP
// message needs in practice, low enough that a runaway peer cannot exhaust memory.
const DefaultMaxMessageSize = 64 << 20

// Reader reads newline-delimited JSON-RPC messages. There is no line-length limit below
// the configured cap. A Reader is not safe for concurrent use.
type Reader struct {
	r   *bufio.Reader
	max int
}

// NewReader returns a Reader over r that refuses messages larger than max bytes
// (DefaultMaxMessageSize when max <= 0).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	// 256 KiB: a typical large message (a file read, a 64 KiB payload) arrives in one
	// buffer and is copied once, instead of being assembled from fragments.
	return &Reader{r: bufio.NewReaderSize(r, pieceSize), max: max}
}

// Read returns the next message. A line that is not a valid message yields a
// *BadMessageError and the Reader stays usable; io.EOF means the stream ended cleanly.
// Blank lines are skipped.
func (r *Reader) Read() (*Message, error) {
	for {
		line, err := r.line()
		if err != nil {
			return nil, err
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		m, err := Parse(line)
		if m != nil {
			m.spare = cap(m.Raw) > len(m.Raw)
		}
		return m, err
	}
}

// line returns the next line without its terminator, in a buffer the caller owns.
func (r *Reader) line() ([]byte, error) {
	frag, err := r.r.ReadSlice('\n')
	if err == nil {
		// Common case: the whole line is in the buffer. Copy it with one spare byte so a
		// writer can append the newline without reallocating.
		n := len(frag) - 1
		if n > r.max {
			return nil, r.tooLargeRead(frag, n)
		}
		out := make([]byte, n, n+1)
		copy(out, frag[:n])
		return trimCR(out), nil
	}
	// A line longer than the buffer: keep copies of its pieces, then join them once into
	// a buffer of the exact size (growing one slice instead would copy a 1 MiB message
	// about four times and leave twice its size as garbage).
	var pieces [][]byte
	total := 0
	for errors.Is(err, bufio.ErrBufferFull) {
		if total+len(frag) > r.max {
			// frag is the part of the line just read; the rest is still unread.
			head := frag
			if len(pieces) > 0 {
				head = pieces[0]
			}
			return nil, r.tooLarge(head, total+len(frag))
		}
		pieces = append(pieces, append((*getPiece())[:0], frag...))
		total += len(frag)
		frag, err = r.r.ReadSlice('\n')
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if errors.Is(err, io.EOF) {
		if total+len(frag) == 0 {
			return nil, io.EOF
		}
		// A final message without a newline is still a message.
	} else {
		frag = frag[:len(frag)-1]
	}
	n := total + len(frag)
	line := join(pieces, frag, n)
	for _, p := range pieces {
		putPiece(p)
	}
	if n > r.max {
		return nil, r.tooLargeRead(line, n)
	}
	return trimCR(line), nil
}

// pieceSize is the read buffer's size: no fragment of a line is longer.
const pieceSize = 256 << 10

// pieces holds the buffers long lines are assembled from between joins, so that a 1 MiB
// message leaves only itself behind, not also its four fragments.
var pieces = sync.Pool{New: func() any { b := make([]byte, 0, pieceSize); return &b }}

func getPiece() *[]byte { return pieces.Get().(*[]byte) }

func putPiece(p []byte) {
	if cap(p) == pieceSize {
		p = p[:0]
		pieces.Put(&p)
	}
}

// join copies pieces and then last into one buffer of length n, with one spare byte.
func join(pieces [][]byte, last []byte, n int) []byte {
	out := make([]byte, 0, n+1)
	for _, p := range pieces {
		out = append(out, p...)
	}
	return append(out, last...)
}

// tooLargeRead reports an oversized line that has been read to its end.
func (r *Reader) tooLargeRead(line []byte, n int) error {
	return &BadMessageError{
		Code:   CodeMessageTooLarge,
		Reason: fmt.Sprintf("message too large: %d bytes (the limit is %d; raise it with --max-message-size)", n, r.max),
		ID:     sniffID(line),
	}
}

// tooLarge discards the rest of an oversized line and reports it. head is the start of
// the line, used to recover the id so the error can answer the right request.
func (r *Reader) tooLarge(head []byte, n int) error {
	id := sniffID(head) // before reading on: head may point into the read buffer
	for {
		_, err := r.r.ReadSlice('\n')
		if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
			break
		}
	}
	return &BadMessageError{
		Code:   CodeMessageTooLarge,
		Reason: fmt.Sprintf("message too large: more than %d bytes (the limit is %d; raise it with --max-message-size)", max(n, r.max+1), r.max),
		ID:     id,
	}
}

// sniffID finds a top-level "id" member in the first bytes of a message, when it comes
// before any nested value. It is best effort: the zero ID means not found.
func sniffID(head []byte) ID {
	s := scanner{b: head}
	s.ws()
	if s.i >= len(head) || head[s.i] != '{' {
		return ID{}
	}
	s.i++
	for {
		s.ws()
		if s.i >= len(head) || head[s.i] != '"' {
			return ID{}
		}
		kstart := s.i
		if _, err := s.str(); err != nil {
			return ID{}
		}
		key := head[kstart:s.i]
		s.ws()
		if s.i >= len(head) || head[s.i] != ':' {
			return ID{}
		}
		s.i++
		s.ws()
		vstart := s.i
		if s.i >= len(head) {
			return ID{}
		}
		if c := head[s.i]; c == '{' || c == '[' {
			return ID{}
		}
		if err := s.value(); err != nil {
			return ID{}
		}
		if string(key) == `"id"` {
			return recoverID(head[vstart:s.i])
		}
		s.ws()
		if s.i >= len(head) || head[s.i] != ',' {
			return ID{}
		}
		s.i++
	}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// Writer writes newline-delimited messages. It is safe for concurrent use; each message
// goes out in one Write call so messages never interleave.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes m followed by a newline.
func (w *Writer) Write(m *Message) error { return w.write(m.Raw, m.spare) }

// WriteRaw writes one already-encoded message followed by a newline. raw must not
// contain a newline outside strings (encoded JSON never does).
func (w *Writer) WriteRaw(raw []byte) error { return w.write(raw, false) }

// writeCopyMax is the largest message Writer copies to append its newline.
const writeCopyMax = 64 << 10

var newline = []byte{'\n'}

func (w *Writer) write(raw []byte, spare bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []byte
	switch {
	case spare && cap(raw) > len(raw):
		// Reader left room for the newline in a buffer it owns; use it and skip a copy.
		out = raw[:len(raw)+1]
		out[len(raw)] = '\n'
	case len(raw) > writeCopyMax:
		// A large message goes out as is, then its newline: two writes (under the lock,
		// so nothing comes between them) cost less than copying it.
		if _, err := w.w.Write(raw); err != nil {
			return err
		}
		out = newline
	default:
		w.buf = append(append(w.buf[:0], raw...), '\n')
		out = w.buf
	}
	_, err := w.w.Write(out)
	if cap(w.buf) > 1<<20 {
		w.buf = nil // do not pin a huge buffer after one large message
	}
	return err
}
