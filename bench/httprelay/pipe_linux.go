package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe gives a pipe 1 MiB of buffer, as airlock does for its server's pipes, so the
// floor is not slowed by writes that wait for the reader.
func growPipe(f any) {
	if p, ok := f.(*os.File); ok {
		if sc, err := p.SyscallConn(); err == nil { // not Fd(): it would make the pipe blocking
			sc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
		}
	}
}
