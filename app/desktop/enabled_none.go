//go:build !dev && !production && !bindings

package desktop

import (
	"context"
	"io/fs"
)

// A plain `go build` has no window: Wails needs its build tags (and cgo with GTK and
// WebKitGTK on Linux), which `wails build` and `wails dev` add.
const (
	windowBuilt  = false
	bindingsOnly = false
)

func runWindow(context.Context, fs.FS, *App, Options) error { return ErrNoWindow }
