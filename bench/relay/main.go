// Command relay is the floor for any stdio MCP proxy: it starts CMD and copies
// newline-delimited messages both ways between its own stdio and the child's, with no
// parsing at all.
//
// With -nonblock it first puts its stdin and stdout in non-blocking mode on the Go
// poller, as Airlock does (../shared/ARCHITECTURE.md requires it: with a blocking stdin
// a 64 KiB message stalls about 10 ms): the floor for a proxy built that way.
package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
)

func pump(dst io.Writer, src io.Reader, done func()) {
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		for err == bufio.ErrBufferFull { // a message longer than the buffer: copy it in pieces
			if _, werr := dst.Write(line); werr != nil {
				done()
				return
			}
			line, err = r.ReadSlice('\n')
		}
		if len(line) > 0 {
			if _, werr := dst.Write(line); werr != nil {
				done()
				return
			}
		}
		if err != nil {
			done()
			return
		}
	}
}

func main() {
	args := os.Args[1:]
	stdin, stdout := os.Stdin, os.Stdout
	if len(args) > 0 && args[0] == "-nonblock" {
		args = args[1:]
		stdin, stdout = nonblocking(stdin), nonblocking(stdout)
	}
	if len(args) < 1 {
		os.Stderr.WriteString("usage: relay [-nonblock] CMD [ARG…]\n")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	go pump(in, stdin, func() { in.Close() })
	pump(stdout, out, func() {})
	cmd.Wait()
}
