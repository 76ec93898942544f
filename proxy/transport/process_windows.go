//go:build windows

package transport

import (
	"os"
	"os/exec"
)

const isWindows = true

type signal int

var (
	sigTerm signal = 15
	sigKill signal = 9
)

func setProcessGroup(*exec.Cmd) {}

// signalGroup on Windows can only kill the direct child; a job object would be needed to
// reach grandchildren (not yet done).
func signalGroup(cmd *exec.Cmd, sig signal) bool {
	if cmd.Process == nil || sig == 0 {
		return false
	}
	return cmd.Process.Kill() == nil
}

func groupAlive(*exec.Cmd) bool { return false }

func growPipe(*os.File) {}
