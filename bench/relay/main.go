// Command relay is the floor for any stdio MCP proxy: it starts CMD and copies
// newline-delimited messages both ways between its own stdio and the child's, with no
// parsing at all.
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
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: relay CMD [ARG…]\n")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	go pump(in, os.Stdin, func() { in.Close() })
	pump(os.Stdout, out, func() {})
	cmd.Wait()
}
