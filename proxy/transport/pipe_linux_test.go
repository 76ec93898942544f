package transport_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pipeSize reads the buffer size of the pipe behind the server's fd n (0 or 1), through
// /proc, as the kernel reports it.
func pipeSize(t *testing.T, pid, n int) int {
	t.Helper()
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/%d", pid, n), os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	return size
}

// A server's pipes keep the default size until a message too large for it crosses them:
// grown pipes count against the user's pipe-page budget, which every program shares.
func TestPipesGrowOnlyForLargeMessages(t *testing.T) {
	p := start(t, "echo")
	def := pipeSize(t, p.Pid(), 0)
	small := mustParse(t, `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"hi"}}`)
	if err := p.Write(small); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	if in, out := pipeSize(t, p.Pid(), 0), pipeSize(t, p.Pid(), 1); in != def || out != def || def > 64<<10 {
		t.Fatalf("after a small message: stdin %d, stdout %d bytes (default %d)", in, out, def)
	}
	big := mustParse(t, `{"jsonrpc":"2.0","id":2,"method":"echo","params":{"s":"`+strings.Repeat("x", 100<<10)+`"}}`)
	if err := p.Write(big); err != nil {
		t.Fatal(err)
	}
	if in := pipeSize(t, p.Pid(), 0); in <= def {
		t.Errorf("stdin pipe is %d bytes after a 100 KiB request, want it grown", in)
	}
	if _, err := p.Read(); err != nil {
		t.Fatal(err)
	}
	if out := pipeSize(t, p.Pid(), 1); out <= def {
		t.Errorf("stdout pipe is %d bytes after a 100 KiB answer, want it grown", out)
	}
}
