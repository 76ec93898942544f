//go:build (dev || production) && !bindings

package desktop

// Built by `wails build` (production) or `wails dev` (dev): the window works.
const (
	windowBuilt  = true
	bindingsOnly = false
)
