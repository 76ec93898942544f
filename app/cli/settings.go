package cli

import (
	"path/filepath"
	"time"

	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/store"
	"github.com/airlock-mcp/airlock/store/secret"
)

// settings are the user's choices that shape the broker and the proxies.
type settings struct {
	ApprovalTimeout time.Duration
	CLIApprovals    bool
	// NoBroker says what a tier-3 call does when no broker answers: "elicit" asks the
	// IDE where it can, "deny" refuses.
	NoBroker string
	// Retention is how long decisions stay in the log; 0 keeps them forever.
	Retention time.Duration
}

// loadSettings reads the settings from the policy file.
func loadSettings(p paths) (settings, error) {
	pol, err := policy.Load(p.policy)
	if err != nil {
		return settings{}, err
	}
	ps := pol.Settings()
	return settings{ApprovalTimeout: ps.ApprovalTimeout, CLIApprovals: ps.CLIApprovals, NoBroker: string(ps.NoBroker), Retention: ps.Retention}, nil
}

// openLog opens the decision log with a redactor that knows the keyring's values, so no
// secret Airlock holds can reach a row.
func openLog(p paths) (*store.Log, error) {
	lg, err := store.Open(p.log)
	if err != nil {
		return nil, err
	}
	var known []string
	if ss, err := secret.New(filepath.Join(p.home)); err == nil {
		if vals, err := ss.Values(); err == nil {
			known = vals
		}
	}
	lg.SetRedactor(&store.Redactor{Known: known})
	return lg, nil
}
