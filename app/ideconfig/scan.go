package ideconfig

import (
	"errors"
	"io/fs"
	"os"
)

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
		data, err := os.ReadFile(loc.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		r := FileReport{Location: loc, Entries: []Entry{}}
		if err != nil {
			r.Error = "read IDE config: " + err.Error()
		} else if doc, err := Parse(loc.Path, loc.Format, data); err != nil {
			r.Error = err.Error()
		} else if doc.Entries != nil {
			for i := range doc.Entries {
				doc.Entries[i].recognise(airlockPaths...)
			}
			r.Entries = doc.Entries
		}
		out = append(out, r)
	}
	return out
}
