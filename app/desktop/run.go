package desktop

import (
	"context"
	"errors"
	"io/fs"
	"os"
	goruntime "runtime"
)

// ErrNoWindow is what Run returns in a build without Wails' build tags (a plain
// `go build`): the command line works, the window does not.
var ErrNoWindow = errors.New("this airlock was built without the desktop window: build it with scripts/install.sh (wails build -tags webkit2_41)")

var errNoDisplay = errors.New("no display to open the window on ($DISPLAY and $WAYLAND_DISPLAY are empty): " +
	"run it in a desktop session, or on a virtual screen with `xvfb-run -a airlock app`; " +
	"without a window, `airlock daemon` is the approver")

// Run opens the window and returns when it closes or ctx ends. assets holds the built
// frontend (frontend/dist, or a tree containing it). The window embeds the approval
// broker, or attaches to `airlock daemon` when one already answers; only one window runs
// per user, and a second start brings the first to the front.
func Run(ctx context.Context, assets fs.FS, o Options) error {
	if !windowBuilt {
		return ErrNoWindow
	}
	if bindingsOnly {
		// `wails build` runs the program once like this to generate the frontend's
		// bindings: it must not start a broker or touch the Airlock home.
		return runWindow(ctx, assets, &App{}, o)
	}
	if goruntime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errNoDisplay
	}
	a, err := newApp(ctx, o)
	if err != nil {
		return err
	}
	defer a.close()
	return runWindow(ctx, assets, a, o)
}

// distFS returns the directory of assets holding index.html: assets itself, or its
// frontend/dist.
func distFS(assets fs.FS) fs.FS {
	if _, err := fs.Stat(assets, "index.html"); err == nil {
		return assets
	}
	if sub, err := fs.Sub(assets, "frontend/dist"); err == nil {
		return sub
	}
	return assets
}
