//go:build linux

package transport

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// setDeathSignal asks the kernel to kill the server if Airlock itself is killed without
// a chance to shut it down. It reaches only the direct child; Shutdown covers the group.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

func growPipeOS(f *os.File) {
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	}
}
