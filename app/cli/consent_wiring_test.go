package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/store"
)

// The guards a proxy runs get the self-protection, the keyring-aware cuts and the live
// policy: without this wiring these features would exist only in their packages' tests.
func TestConsentWiresGuards(t *testing.T) {
	home := t.TempDir()
	t.Setenv("AIRLOCK_HOME", home)
	userHome := t.TempDir()
	var stderr bytes.Buffer
	env := &Env{Stderr: &stderr, Getenv: func(k string) string {
		if k == "HOME" {
			return userHome
		}
		return os.Getenv(k)
	}}
	c, err := openConsent(env)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.chain("srv", nil)
	if len(c.guards) != 1 {
		t.Fatalf("%d guards", len(c.guards))
	}
	g := c.guards[0]
	for _, args := range []string{
		`{"path":` + quoteJSON(filepath.Join(home, "policy.toml")) + `}`,
		`{"path":` + quoteJSON(filepath.Join(userHome, ".cursor", "mcp.json")) + `}`,
		`{"path":"/work/proj/.vscode/mcp.json"}`,
	} {
		if g.Protect.In(json.RawMessage(args)) == "" {
			t.Errorf("%s is not protected", args)
		}
	}
	// A cut in a large argument's summary keeps keyring values whole, with the
	// log's current Redactor.
	if g.KeepWhole == nil {
		t.Fatal("the guard's summaries do not keep keyring values whole")
	}
	if err := c.log.Err(); err != nil {
		t.Fatal(err)
	}
	c.log.log.SetRedactor(&store.Redactor{Known: []string{"open sesame now"}})
	if got := g.KeepWhole("say open sesame now", 10); got != 4 {
		t.Errorf("KeepWhole inside a keyring value = %d, want 4", got)
	}
	// Arguments holding a keyring value are recognised, with the same Redactor.
	if g.KnownSecret == nil || !g.KnownSecret([]byte(`{"q":"open sesame now"}`)) || g.KnownSecret([]byte(`{"q":"open"}`)) {
		t.Error("the guard does not recognise keyring values in arguments")
	}
	if g.Pins == nil {
		t.Fatal("the guard does not pin tool definitions across sessions")
	}
	if g.Live == nil || c.launches.Live == nil {
		t.Fatal("the guard or the launcher does not follow policy.toml")
	}
	old := policy.CheckEvery
	policy.CheckEvery = 0
	defer func() { policy.CheckEvery = old }()
	os.WriteFile(filepath.Join(home, "policy.toml"), []byte("[[rules]]\ntool = \"x\"\naction = \"deny\"\n"), 0o600)
	mod := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(home, "policy.toml"), mod, mod)
	if g.Live.Current().Evaluate(policy.Input{Server: "srv", Tool: "x"}).Action != policy.Deny {
		t.Error("an edit of policy.toml does not reach the guard")
	}
}

func quoteJSON(s string) string { b, _ := json.Marshal(s); return string(b) }
