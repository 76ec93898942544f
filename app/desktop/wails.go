//go:build dev || production || bindings

package desktop

// This file is the only one that imports Wails. It is built only with Wails' build tags,
// so a plain `go build` and `go test` need neither cgo nor GTK.

import (
	"context"
	"io/fs"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/options/mac"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// uniqueID identifies the app for the single-instance lock.
const uniqueID = "dev.airlock.app"

// background is the window's colour before the frontend paints (the frontend's
// --bg), so the window never flashes white.
var background = &options.RGBA{R: 0x11, G: 0x13, B: 0x18, A: 0xff}

// wailsShell is the Shell of a Wails window. Until the window starts it does nothing.
type wailsShell struct {
	mu     sync.Mutex
	ctx    context.Context
	notify bool
}

func (s *wailsShell) get() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

func (s *wailsShell) Emit(name string, data any) {
	if ctx := s.get(); ctx != nil {
		runtime.EventsEmit(ctx, name, data)
	}
}

func (s *wailsShell) Surface() {
	ctx := s.get()
	if ctx == nil {
		return
	}
	runtime.WindowUnminimise(ctx)
	runtime.WindowShow(ctx)
	// Window managers ignore plain raise requests from background apps; staying on
	// top for a moment brings the window up without keeping it there.
	runtime.WindowSetAlwaysOnTop(ctx, true)
	time.AfterFunc(400*time.Millisecond, func() { runtime.WindowSetAlwaysOnTop(ctx, false) })
}

func (s *wailsShell) Notify(title, body string) {
	ctx := s.get()
	s.mu.Lock()
	ok := s.notify
	s.mu.Unlock()
	if ctx == nil || !ok {
		return
	}
	// No notification daemon (a bare X server, a locked-down desktop) is not an error
	// worth showing: the window itself came to the front.
	_ = runtime.SendNotification(ctx, runtime.NotificationOptions{
		ID: "airlock-" + time.Now().Format("150405.000000"), Title: title, Body: body,
	})
}

func (s *wailsShell) SaveFile(title, defaultName, pattern string) (string, error) {
	ctx := s.get()
	if ctx == nil {
		return "", nil
	}
	return runtime.SaveFileDialog(ctx, runtime.SaveDialogOptions{
		Title: title, DefaultFilename: defaultName,
		Filters: []runtime.FileFilter{{DisplayName: pattern, Pattern: pattern}},
	})
}

func (s *wailsShell) start(ctx context.Context) {
	err := runtime.InitializeNotifications(ctx)
	s.mu.Lock()
	s.ctx, s.notify = ctx, err == nil
	s.mu.Unlock()
}

func runWindow(ctx context.Context, assets fs.FS, a *App, o Options) error {
	sh := &wailsShell{}
	return wails.Run(&options.App{
		Title:            "Airlock",
		Width:            1100,
		Height:           760,
		MinWidth:         820,
		MinHeight:        560,
		BackgroundColour: background,
		AssetServer:      &assetserver.Options{Assets: distFS(assets)},
		Bind:             []any{a},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId:               uniqueID,
			OnSecondInstanceLaunch: func(d options.SecondInstanceData) { a.secondLaunch(d.Args) },
		},
		OnStartup: func(wctx context.Context) {
			sh.start(wctx)
			a.start(sh)
			go func() {
				select {
				case <-ctx.Done(): // SIGINT, SIGTERM, SIGHUP
					runtime.Quit(wctx)
				case <-a.ctx.Done():
				}
			}()
		},
		OnDomReady: func(context.Context) {
			if a.Status().Demo {
				a.startDemo()
			}
		},
		OnShutdown: func(wctx context.Context) {
			runtime.CleanupNotifications(wctx)
		},
		Linux: &linux.Options{ProgramName: "airlock", WebviewGpuPolicy: linux.WebviewGpuPolicyOnDemand},
		Mac: &mac.Options{
			About: &mac.AboutInfo{Title: "Airlock", Message: "Puts a person between an AI agent and the tools it can reach. Version " + o.Version},
		},
	})
}
