//go:build unix

package transport

import (
	"os"
	"os/exec"
	"syscall"
)

const isWindows = false

var (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// signalGroup sends sig to the server's process group. It reports whether the group
// still had a member to signal.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) bool {
	if cmd.Process == nil {
		return false
	}
	return syscall.Kill(-cmd.Process.Pid, sig) == nil
}

// groupAlive reports whether any process of the server's group is still running.
func groupAlive(cmd *exec.Cmd) bool { return signalGroup(cmd, 0) }

// growPipe raises a pipe's buffer to 1 MiB where the OS allows it, so a large message
// crosses in fewer wake-ups. Failure is harmless.
func growPipe(f *os.File) { growPipeOS(f) }
