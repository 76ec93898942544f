//go:build bindings

package desktop

// Built by `wails build` to generate the frontend's bindings: Run only describes App.
const (
	windowBuilt  = true
	bindingsOnly = true
)
