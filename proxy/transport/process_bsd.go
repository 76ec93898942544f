//go:build unix && !linux

package transport

import (
	"os"
	"syscall"
)

func setDeathSignal(*syscall.SysProcAttr) {}

func growPipeOS(*os.File) {}
