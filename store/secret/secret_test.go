package secret

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
)

// newMockStore replaces the process-wide keyring with an empty in-memory one.
func newMockStore(t *testing.T) (*Store, string) {
	t.Helper()
	keyring.MockInit()
	dir := filepath.Join(t.TempDir(), "secrets")
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestStoreRoundTrip(t *testing.T) {
	s, dir := newMockStore(t)
	mustSet := func(name, value string) {
		t.Helper()
		if err := s.Set(name, value); err != nil {
			t.Fatal(err)
		}
	}
	mustSet("github.token", "ghp-value-1")
	mustSet("OPENAI_KEY", "sk-value-2")
	mustSet("github.token", "ghp-value-3") // replace

	got, err := s.Get("github.token")
	if err != nil || got != "ghp-value-3" {
		t.Errorf("Get = %q, %v; want ghp-value-3", got, err)
	}
	names, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"OPENAI_KEY", "github.token"}, names); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	vals, err := s.Values()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"sk-value-2", "ghp-value-3"}, vals); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}

	// The index holds names only, 0600.
	idx := filepath.Join(dir, indexFile)
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "value") {
		t.Errorf("index holds a value: %s", data)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{idx: 0o600, dir: 0o700} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
				t.Errorf("mode of %s = %v, %v; want %v", p, fi.Mode().Perm(), err, want)
			}
		}
	}

	if err := s.Delete("github.token"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("github.token"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete("github.token"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
	if names, _ := s.List(); !cmp.Equal(names, []string{"OPENAI_KEY"}) {
		t.Errorf("List after Delete = %v", names)
	}

	// A keyring entry removed behind our back is skipped by Values.
	if err := keyring.Delete(Service, "OPENAI_KEY"); err != nil {
		t.Fatal(err)
	}
	if vals, err := s.Values(); err != nil || len(vals) != 0 {
		t.Errorf("Values = %v, %v; want none", vals, err)
	}
}

func TestNames(t *testing.T) {
	s, _ := newMockStore(t)
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"GitHub_Token-2.prod", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{strings.Repeat("x", 65), false},
		{"has space", false},
		{"slash/name", false},
		{"dollar$", false},
		{"ünïcode", false},
		{"new\nline", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			if got := ValidName(tt.name); got != tt.ok {
				t.Errorf("ValidName = %v, want %v", got, tt.ok)
			}
			err := s.Set(tt.name, "v")
			if (err == nil) != tt.ok {
				t.Errorf("Set err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				if _, err := s.Get(tt.name); err == nil || !strings.Contains(err.Error(), "invalid secret name") {
					t.Errorf("Get err = %v, want invalid name", err)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	s, _ := newMockStore(t)
	for name, v := range map[string]string{"gh": "ghp-1", "db.pass": "p@ss"} {
		if err := s.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		in        string
		want      string
		wantNames []string
		wantErr   string
	}{
		{name: "no references", in: "plain $HOME ${PATH}", want: "plain $HOME ${PATH}"},
		{name: "one", in: "Bearer ${keyring:gh}", want: "Bearer ghp-1", wantNames: []string{"gh"}},
		{
			name: "several and repeated", in: "postgres://u:${keyring:db.pass}@h/${keyring:gh}?t=${keyring:db.pass}",
			want: "postgres://u:p@ss@h/ghp-1?t=p@ss", wantNames: []string{"db.pass", "gh"},
		},
		{name: "unknown", in: "x ${keyring:missing} y", wantErr: `no secret named "missing"`},
		{name: "invalid name", in: "${keyring:bad name}", wantErr: "invalid secret name"},
		{name: "empty name", in: "${keyring:}", wantErr: "invalid secret name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, names, err := s.Resolve(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNames, names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoKeyring(t *testing.T) {
	keyring.MockInitWithError(dbus.Error{
		Name: "org.freedesktop.DBus.Error.ServiceUnknown",
		Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"},
	})
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Set("gh", "ghp-secret-value")
	if !IsNoKeyring(err) {
		t.Fatalf("Set err = %v, want a no-keyring error", err)
	}
	var nk *NoKeyringError
	if !errors.As(err, &nk) {
		t.Errorf("Set err %T is not a *NoKeyringError", err)
	}
	if runtime.GOOS == "linux" {
		for _, want := range []string{"gnome-keyring", "KeePassXC", "D-Bus session", "never in plain text"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	}
	if _, err := s.Get("gh"); !IsNoKeyring(err) {
		t.Errorf("Get err = %v, want a no-keyring error", err)
	}
	// Nothing was written anywhere instead.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("store dir holds %v after a failed Set", entries)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		noKeyring bool
		notFound  bool
	}{
		{"not found", keyring.ErrNotFound, false, true},
		{"unsupported platform", keyring.ErrUnsupportedPlatform, true, false},
		{"service unknown", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, true, false},
		{"service unknown pointer", &dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, true, false},
		{"no dbus-launch", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, true, false},
		{"no bus address", errors.New("dbus: couldn't determine address of session bus"), true, false},
		{"prompt dismissed", errors.New("prompt dismissed"), false, false},
		{"access denied", dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied"}, false, false},
		{"too big", keyring.ErrSetDataTooBig, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err)
			if IsNoKeyring(got) != tt.noKeyring || errors.Is(got, ErrNotFound) != tt.notFound {
				t.Errorf("classify(%v) = %v: noKeyring %v notFound %v, want %v %v",
					tt.err, got, IsNoKeyring(got), errors.Is(got, ErrNotFound), tt.noKeyring, tt.notFound)
			}
			if !strings.Contains(got.Error(), tt.err.Error()) {
				t.Errorf("classify(%v) lost the cause", tt.err)
			}
		})
	}
}

// TestRealKeyring round-trips through the OS keyring (on Linux the Secret
// Service; CI runs it under dbus-run-session with an unlocked gnome-keyring).
// It runs in a child process, because the other tests replace the keyring
// with a mock for the whole process.
func TestRealKeyring(t *testing.T) {
	if os.Getenv("AIRLOCK_REAL_KEYRING") != "1" {
		t.Skip("set AIRLOCK_REAL_KEYRING=1 to use the real OS keyring")
	}
	if os.Getenv(envRealChild) == "1" {
		realKeyringRoundTrip(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRealKeyring$", "-test.v")
	cmd.Env = append(os.Environ(), envRealChild+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("real keyring child: %v", err)
	}
}

const envRealChild = "AIRLOCK_REAL_KEYRING_CHILD"

func realKeyringRoundTrip(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("airlock-test-%d", os.Getpid())
	const value = "real-keyring-value ✓ with spaces"
	if err := s.Set(name, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Delete(name) })
	got, err := s.Get(name)
	if err != nil || got != value {
		t.Fatalf("Get = %q, %v; want %q", got, err, value)
	}
	resolved, names, err := s.Resolve("v=${keyring:" + name + "}")
	if err != nil || resolved != "v="+value || !cmp.Equal(names, []string{name}) {
		t.Errorf("Resolve = %q, %v, %v", resolved, names, err)
	}
	if err := s.Delete(name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(name); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
	}
}
