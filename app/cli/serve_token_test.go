package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-mcp/airlock/store/secret"
	"github.com/zalando/go-keyring"
)

func TestServeTokenLivesInKeyring(t *testing.T) {
	keyring.MockInit()
	home := t.TempDir()
	tok, err := serveToken(home)
	if err != nil || len(tok) < 32 {
		t.Fatalf("serveToken = %q, %v", tok, err)
	}
	again, err := serveToken(home)
	if err != nil || again != tok {
		t.Fatalf("second serveToken = %q, %v; want the same token", again, err)
	}
	ss, _ := secret.New(home)
	if v, err := ss.Get(serveTokenName); err != nil || v != tok {
		t.Fatalf("keyring holds %q, %v", v, err)
	}
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), tok) {
				t.Errorf("%s holds the token", p)
			}
		}
		return nil
	})
}

// A token file written by an older Airlock keeps working (IDE configs hold it) and is
// moved into the keyring, then deleted.
func TestServeTokenFileMovesToKeyring(t *testing.T) {
	keyring.MockInit()
	home := t.TempDir()
	const old = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
	file := filepath.Join(home, "serve-token")
	if err := os.WriteFile(file, []byte(old+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := serveToken(home)
	if err != nil || tok != old {
		t.Fatalf("serveToken = %q, %v; want the old token", tok, err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the token file is still there (%v)", err)
	}
}

func TestServeTokenWithoutKeyring(t *testing.T) {
	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	defer keyring.MockInit()
	home := t.TempDir()
	_, err := serveToken(home)
	if err == nil || !strings.Contains(err.Error(), "--no-token") || !strings.Contains(err.Error(), "keyring") {
		t.Fatalf("serveToken without a keyring: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, "serve-token")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a token file was written without a keyring")
	}
}
