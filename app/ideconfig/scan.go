package ideconfig

// FileReport is what `airlock clients` shows of one configuration file.
type FileReport struct {
	Location
	// Error says why the file could not be read or parsed; Entries is then empty.
	Error   string  `json:"error,omitempty"`
	Entries []Entry `json:"servers"`
}

// Scan reads every location of p that exists and reports its servers. Missing files are
// left out; unreadable or invalid ones are reported with their error. Entries that run
// one of airlockPaths count as protected whatever the executable is called.
func Scan(p Platform, airlockPaths ...string) []FileReport {
	var out []FileReport
	for _, loc := range p.Locations() {
		if r, ok := ScanLocation(loc, airlockPaths...); ok {
			out = append(out, r)
		}
	}
	return out
}
