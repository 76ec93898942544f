package desktop

// Shell is what the App needs of the window system. The Wails implementation lives in
// wails.go (built only with Wails' build tags); tests use a fake. Every method may be
// called from any goroutine, before the window is up (when it does nothing) and after.
type Shell interface {
	// Emit sends an event to the frontend.
	Emit(name string, data any)
	// Surface brings the window to the front: unminimised, shown, raised.
	Surface()
	// Notify shows an OS notification; it does nothing where notifications are not
	// available.
	Notify(title, body string)
	// SaveFile asks the person where to save a file; "" means they cancelled.
	SaveFile(title, defaultName, pattern string) (string, error)
}

// noShell is the Shell before the window exists.
type noShell struct{}

func (noShell) Emit(string, any)                                {}
func (noShell) Surface()                                        {}
func (noShell) Notify(string, string)                           {}
func (noShell) SaveFile(string, string, string) (string, error) { return "", nil }
