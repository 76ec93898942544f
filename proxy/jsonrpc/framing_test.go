package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// item is one result of Reader.Read: a message's raw bytes or a bad-message error.
type item struct {
	Raw  string
	Code int
	ID   string
}

func readAll(t *testing.T, r *Reader) []item {
	t.Helper()
	var out []item
	for {
		m, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		var bad *BadMessageError
		switch {
		case errors.As(err, &bad):
			out = append(out, item{Code: bad.Code, ID: bad.ID.String()})
		case err != nil:
			t.Fatalf("Read: %v", err)
		default:
			out = append(out, item{Raw: string(m.Raw)})
		}
		if len(out) > 1000 {
			t.Fatalf("Read returned more than 1000 items")
		}
	}
}

// request returns a request line of exactly n bytes (without the newline).
func request(id string, n int) string {
	head := `{"jsonrpc":"2.0","id":` + id + `,"method":"m","params":{"pad":"`
	tail := `"}}`
	if pad := n - len(head) - len(tail); pad > 0 {
		return head + strings.Repeat("x", pad) + tail
	}
	return head + tail
}

func TestReader(t *testing.T) {
	a := `{"jsonrpc":"2.0","id":1,"method":"a"}`
	b := `{"jsonrpc":"2.0","method":"b"}`
	tests := []struct {
		name string
		in   string
		max  int
		want []item
	}{
		{"empty stream", "", 0, nil},
		{"one message", a + "\n", 0, []item{{Raw: a}}},
		{"final line without newline", a + "\n" + b, 0, []item{{Raw: a}, {Raw: b}}},
		{"CRLF", a + "\r\n" + b + "\r\n", 0, []item{{Raw: a}, {Raw: b}}},
		{"blank lines skipped", "\n\r\n  \n" + a + "\n\n\t\n" + b + "\n\n", 0, []item{{Raw: a}, {Raw: b}}},
		{"surrounding space trimmed", "  " + a + " \t\n", 0, []item{{Raw: a}}},
		{"bad line then good", "not json\n" + a + "\n", 0, []item{{Code: CodeParseError}, {Raw: a}}},
		{"bad request keeps its id", `{"jsonrpc":"2.0","id":"q","method":1}` + "\n" + a, 0,
			[]item{{Code: CodeInvalidRequest, ID: `"q"`}, {Raw: a}}},
		{"batch refused, stream goes on", "[" + a + "]\n" + b + "\n", 0, []item{{Code: CodeInvalidRequest}, {Raw: b}}},
		{"1 MiB line", request("1", 1<<20) + "\n" + a + "\n", 0, []item{{Raw: request("1", 1<<20)}, {Raw: a}}},
		{"5 MiB line, CRLF", request(`"big"`, 5<<20) + "\r\n" + a, 0, []item{{Raw: request(`"big"`, 5<<20)}, {Raw: a}}},
		{"5 MiB final line without newline", a + "\n" + request("2", 5<<20), 0, []item{{Raw: a}, {Raw: request("2", 5<<20)}}},
		{"exactly the cap", request("1", 1000) + "\n" + a, 1000, []item{{Raw: request("1", 1000)}, {Raw: a}}},
		{"over the cap by far, across buffers", request("9", 300<<10) + "\n" + a + "\n", 100 << 10,
			[]item{{Code: CodeMessageTooLarge, ID: "9"}, {Raw: a}}},
		{"over the cap, string id", request(`"big"`, 5<<20) + "\n" + a + "\n", 1 << 20,
			[]item{{Code: CodeMessageTooLarge, ID: `"big"`}, {Raw: a}}},
		{"two oversized in a row", request("1", 300<<10) + "\n" + request("2", 300<<10) + "\n" + a + "\n", 100 << 10,
			[]item{{Code: CodeMessageTooLarge, ID: "1"}, {Code: CodeMessageTooLarge, ID: "2"}, {Raw: a}}},
		{"oversized with id after a nested value", `{"jsonrpc":"2.0","params":{"a":"` + strings.Repeat("y", 200<<10) + `"},"id":3,"method":"m"}` + "\n" + a, 100 << 10,
			[]item{{Code: CodeMessageTooLarge}, {Raw: a}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, NewReader(strings.NewReader(tt.in), tt.max))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read mismatch (-want +got):\n%s", shorten(diff))
			}
		})
	}
}

// shorten keeps huge diffs readable.
func shorten(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func TestReaderSmallReads(t *testing.T) {
	// The same stream delivered one byte at a time and in odd-sized chunks.
	a := `{"jsonrpc":"2.0","id":1,"method":"a"}`
	big := request("2", 200<<10)
	in := a + "\r\n\n" + big + "\n" + a
	want := []item{{Raw: a}, {Raw: big}, {Raw: a}}
	for name, r := range map[string]io.Reader{
		"one byte":  iotest.OneByteReader(strings.NewReader(in)),
		"half":      iotest.HalfReader(strings.NewReader(in)),
		"data+EOF":  iotest.DataErrReader(strings.NewReader(in)),
		"chunks 7k": &chunkReader{s: in, n: 7000},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(want, readAll(t, NewReader(r, 0))); diff != "" {
				t.Errorf("Read mismatch (-want +got):\n%s", shorten(diff))
			}
		})
	}
}

type chunkReader struct {
	s string
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.s) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.n, len(c.s))
	copy(p, c.s[:n])
	c.s = c.s[n:]
	return n, nil
}

func TestReaderOverCapInOneBuffer(t *testing.T) {
	// A line over the cap that fits in the 64 KiB read buffer: the next message must
	// still be read, and the error must carry the oversized message's id.
	a := `{"jsonrpc":"2.0","id":1,"method":"a"}`
	in := request("7", 2000) + "\n" + a + "\n"
	got := readAll(t, NewReader(strings.NewReader(in), 1000))
	want := []item{{Code: CodeMessageTooLarge, ID: "7"}, {Raw: a}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
}

func TestReaderOverCapInLastFragment(t *testing.T) {
	// A line that crosses the cap only in its final fragment (the one holding the
	// newline): same expectation.
	a := `{"jsonrpc":"2.0","id":1,"method":"a"}`
	const max = 1 << 20
	in := request("8", max+100) + "\n" + a + "\n"
	got := readAll(t, NewReader(strings.NewReader(in), max))
	want := []item{{Code: CodeMessageTooLarge, ID: "8"}, {Raw: a}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
}

func TestReaderOverCapAtEOF(t *testing.T) {
	// A final oversized line without a newline: an error, then EOF.
	in := request("4", 200<<10)
	got := readAll(t, NewReader(strings.NewReader(in), 100<<10))
	if len(got) != 1 || got[0].Code != CodeMessageTooLarge {
		t.Fatalf("Read = %v, want one too-large error", got)
	}
}

func TestReaderTooLargeMessage(t *testing.T) {
	in := request(`"x"`, 300<<10) + "\n"
	_, err := NewReader(strings.NewReader(in), 100<<10).Read()
	var bad *BadMessageError
	if !errors.As(err, &bad) {
		t.Fatalf("Read error = %v, want *BadMessageError", err)
	}
	if bad.Code != -32001 || !strings.Contains(bad.Reason, "--max-message-size") || !strings.Contains(bad.Reason, fmt.Sprint(100<<10)) {
		t.Errorf("error = %d %q, want -32001 naming the limit and the flag", bad.Code, bad.Reason)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := NewReader(io.MultiReader(strings.NewReader(`{"jsonrpc"`), errReader{boom}), 0).Read()
	if !errors.Is(err, boom) {
		t.Errorf("Read error = %v, want %v", err, boom)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	lines := []string{
		`{"jsonrpc":"2.0","id":1,"method":"a"}`,
		request("2", 70<<10),
		` {"jsonrpc":"2.0","method":"b"}  `,
	}
	var out bytes.Buffer
	w := NewWriter(&out)
	r := NewReader(strings.NewReader(strings.Join(lines, "\n")+"\n"), 0)
	for range lines {
		m, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		// Twice: the spare-byte fast path must not corrupt the message for a second write.
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteRaw([]byte(`{"jsonrpc":"2.0","method":"c"}`)); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, l := range lines {
		l = strings.TrimSpace(l)
		want.WriteString(l + "\n" + l + "\n")
	}
	want.WriteString(`{"jsonrpc":"2.0","method":"c"}` + "\n")
	if diff := cmp.Diff(want.String(), out.String()); diff != "" {
		t.Errorf("written bytes mismatch (-want +got):\n%s", shorten(diff))
	}
}

// recordingWriter records each Write call separately.
type recordingWriter struct {
	mu     sync.Mutex
	writes [][]byte
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func TestWriterConcurrent(t *testing.T) {
	// Many goroutines write messages of varied sizes (some above writeCopyMax, which go
	// out in two writes), some read from a Reader (spare byte) and some built; messages
	// must never interleave, and a small one must go out in a single Write call.
	const goroutines, each = 8, 50
	rw := &recordingWriter{}
	w := NewWriter(rw)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				line := request(fmt.Sprintf(`"g%d-%d"`, g, i), 10+(g*each+i)*397%(150<<10))
				if i%2 == 0 {
					m, err := NewReader(strings.NewReader(line+"\n"), 0).Read()
					if err != nil {
						t.Error(err)
						return
					}
					if err := w.Write(m); err != nil {
						t.Error(err)
					}
				} else if err := w.WriteRaw([]byte(line)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, p := range rw.writes {
		if len(p) <= writeCopyMax && (bytes.Count(p, []byte("\n")) != 1 || p[len(p)-1] != '\n') {
			t.Fatalf("a small Write call carried %d newlines, want one whole message", bytes.Count(p, []byte("\n")))
		}
	}
	stream := bytes.Join(rw.writes, nil)
	lines := bytes.Split(bytes.TrimSuffix(stream, []byte("\n")), []byte("\n"))
	if got, want := len(lines), goroutines*each; got != want {
		t.Fatalf("%d messages written, want %d", got, want)
	}
	seen := map[string]bool{}
	large := 0
	for _, l := range lines {
		m, err := Parse(l)
		if err != nil {
			t.Fatalf("written message does not parse (interleaved?): %v", err)
		}
		if seen[m.ID.String()] {
			t.Fatalf("message %s written twice", m.ID)
		}
		seen[m.ID.String()] = true
		if len(l) > writeCopyMax {
			large++
		}
	}
	if large == 0 {
		t.Error("no message above writeCopyMax: the test does not cover the two-write path")
	}
}

func TestWriterError(t *testing.T) {
	boom := errors.New("closed")
	w := NewWriter(errWriter{boom})
	if err := w.WriteRaw([]byte(`{}`)); !errors.Is(err, boom) {
		t.Errorf("WriteRaw error = %v, want %v", err, boom)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }
