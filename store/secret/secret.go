// Package secret keeps Airlock's credentials in the OS keyring (service
// "airlock") and never anywhere else; only the list of names is kept on disk.
package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/airlock-mcp/airlock/store/atomicfile"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// Service is the keyring service name every secret is stored under.
const Service = "airlock"

// indexFile is the file under the Store's directory listing secret names.
const indexFile = "secrets.json"

var (
	// ErrNotFound is returned by Get and Delete for a name with no secret.
	ErrNotFound = errors.New("secret not found")
	// ErrNoKeyring matches, with errors.Is, every error that reports that no
	// OS keyring is reachable. Such errors are *NoKeyringError.
	ErrNoKeyring = errors.New("no os keyring available")
)

// NoKeyringError reports that the OS keyring cannot be reached. Its message
// tells the user what to install or start.
type NoKeyringError struct {
	Err error // the keyring library's error
}

func (e *NoKeyringError) Error() string {
	return fmt.Sprintf("%v (%v): %s", ErrNoKeyring, e.Err, keyringHelp())
}

// Unwrap returns ErrNoKeyring and the cause.
func (e *NoKeyringError) Unwrap() []error { return []error{ErrNoKeyring, e.Err} }

// IsNoKeyring reports whether err says that no OS keyring is reachable.
func IsNoKeyring(err error) bool { return errors.Is(err, ErrNoKeyring) }

func keyringHelp() string {
	const never = "Airlock keeps secrets only in the OS keyring, never in plain text"
	switch runtime.GOOS {
	case "darwin":
		return never + "; check that the login keychain is unlocked"
	case "windows":
		return never + "; check that Windows Credential Manager is available"
	default:
		return never + "; on Linux install and start a Secret Service provider, " +
			"such as gnome-keyring (package gnome-keyring) or KeePassXC with Secret Service integration enabled, " +
			"inside a D-Bus session (DBUS_SESSION_BUS_ADDRESS must be set; in a headless shell run " +
			"`dbus-run-session -- sh` and unlock gnome-keyring with `gnome-keyring-daemon --unlock`)"
	}
}

// namePattern is what a secret name may look like.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidName reports whether name can name a secret: 1 to 64 of A-Z a-z 0-9 . _ -
func ValidName(name string) bool { return namePattern.MatchString(name) }

func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("invalid secret name %q: use 1 to 64 letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// Store reads and writes secrets in the OS keyring. Because keyrings cannot
// list entries, it keeps the names (never the values) in a 0600 file in its
// directory. A Store is safe for concurrent use within a process; processes
// that Set or Delete at the same moment may lose an index entry, which the
// next Set of that name restores.
type Store struct {
	dir string
	mu  sync.Mutex // serialises index read-modify-write
}

// New returns a Store whose name index lives in dir, creating dir 0700 if
// it does not exist. It does not touch the keyring.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create secret store: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Set stores value under name, replacing any previous value.
func (s *Store) Set(name, value string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("set secret: %w", err)
	}
	if err := keyring.Set(Service, name, value); err != nil {
		return fmt.Errorf("set secret %s: %w", name, classify(err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.readIndex()
	if err != nil {
		return fmt.Errorf("set secret %s: %w", name, err)
	}
	if i, found := slices.BinarySearch(names, name); !found {
		names = slices.Insert(names, i, name)
		if err := s.writeIndex(names); err != nil {
			return fmt.Errorf("set secret %s: %w", name, err)
		}
	}
	return nil
}

// Get returns the value stored under name, or an error matching ErrNotFound.
func (s *Store) Get(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("get secret: %w", err)
	}
	v, err := keyring.Get(Service, name)
	if err != nil {
		return "", fmt.Errorf("get secret %s: %w", name, classify(err))
	}
	return v, nil
}

// Delete removes the secret name. Deleting a name that does not exist
// returns an error matching ErrNotFound (after dropping it from the index).
func (s *Store) Delete(name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	kerr := classify(keyring.Delete(Service, name))
	if kerr != nil && !errors.Is(kerr, ErrNotFound) {
		return fmt.Errorf("delete secret %s: %w", name, kerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.readIndex()
	if err != nil {
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	if i, found := slices.BinarySearch(names, name); found {
		if err := s.writeIndex(slices.Delete(names, i, i+1)); err != nil {
			return fmt.Errorf("delete secret %s: %w", name, err)
		}
	}
	if kerr != nil {
		return fmt.Errorf("delete secret %s: %w", name, kerr)
	}
	return nil
}

// List returns the names of the stored secrets, sorted. It reads only the
// index and does not touch the keyring.
func (s *Store) List() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.readIndex()
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	return names, nil
}

// Values returns the value of every listed secret, for a redactor. Names
// in the index whose keyring entry has gone are skipped.
func (s *Store) Values() ([]string, error) {
	names, err := s.List()
	if err != nil {
		return nil, err
	}
	vals := make([]string, 0, len(names))
	for _, n := range names {
		v, err := s.Get(n)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read secret values: %w", err)
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// refPattern matches a ${keyring:NAME} reference; NAME is checked separately
// so a malformed name is reported rather than left in place.
var refPattern = regexp.MustCompile(`\$\{keyring:([^}]*)\}`)

// Resolve returns s with every ${keyring:NAME} reference replaced by the
// secret's value, and the names it used, each once, in order of first use.
// An invalid or unknown name is an error that names it.
func (s *Store) Resolve(str string) (string, []string, error) {
	var names []string
	vals := map[string]string{}
	for _, m := range refPattern.FindAllStringSubmatch(str, -1) {
		name := m[1]
		if _, done := vals[name]; done {
			continue
		}
		if err := checkName(name); err != nil {
			return "", nil, fmt.Errorf("resolve secret reference %s: %w", m[0], err)
		}
		v, err := s.Get(name)
		if errors.Is(err, ErrNotFound) {
			return "", nil, fmt.Errorf("resolve secret reference %s: no secret named %q (add it with `airlock secret set %s`)", m[0], name, name)
		}
		if err != nil {
			return "", nil, fmt.Errorf("resolve secret reference %s: %w", m[0], err)
		}
		vals[name] = v
		names = append(names, name)
	}
	if len(names) == 0 {
		return str, nil, nil
	}
	out := refPattern.ReplaceAllStringFunc(str, func(ref string) string {
		return vals[strings.TrimSuffix(strings.TrimPrefix(ref, "${keyring:"), "}")]
	})
	return out, names, nil
}

func (s *Store) indexPath() string { return filepath.Join(s.dir, indexFile) }

// readIndex returns the sorted names in the index; a missing index is empty.
func (s *Store) readIndex() ([]string, error) {
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, os.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secret index: %w", err)
	}
	var names []string
	if err := json.Unmarshal(data, &names); err != nil {
		return nil, fmt.Errorf("read secret index %s: %w", s.indexPath(), err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !ValidName(n) })
	slices.Sort(names)
	return slices.Compact(names), nil
}

// writeIndex replaces the index atomically, mode 0600.
func (s *Store) writeIndex(names []string) error {
	data, err := json.MarshalIndent(names, "", "  ")
	if err != nil {
		return fmt.Errorf("write secret index: %w", err)
	}
	if err := atomicfile.Write(s.indexPath(), append(data, '\n')); err != nil {
		return fmt.Errorf("write secret index: %w", err)
	}
	return nil
}

// classify maps keyring errors to ErrNotFound and *NoKeyringError.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case noKeyring(err):
		return &NoKeyringError{Err: err}
	}
	return err
}

// noKeyring reports whether err means there is no keyring to talk to, as
// opposed to a keyring that refused (a dismissed unlock prompt, say).
func noKeyring(err error) bool {
	if errors.Is(err, keyring.ErrUnsupportedPlatform) {
		return true
	}
	var de dbus.Error
	var dep *dbus.Error
	name := ""
	if errors.As(err, &de) {
		name = de.Name
	} else if errors.As(err, &dep) {
		name = dep.Name
	}
	switch {
	case name == "org.freedesktop.DBus.Error.ServiceUnknown",
		name == "org.freedesktop.DBus.Error.NameHasNoOwner",
		name == "org.freedesktop.DBus.Error.NoServer",
		name == "org.freedesktop.DBus.Error.Disconnected",
		name == "org.freedesktop.DBus.Error.UnknownObject",
		strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn"):
		return true
	case name != "":
		return false
	}
	// Errors from connecting to the session bus itself. With no
	// DBUS_SESSION_BUS_ADDRESS, godbus tries to autolaunch a bus with
	// dbus-launch, which is usually not installed (*exec.Error) or cannot
	// start without X11.
	var ee *exec.Error
	if errors.As(err, &ee) || errors.Is(err, dbus.ErrClosed) {
		return true
	}
	msg := err.Error()
	lower := strings.ToLower(msg)
	return strings.HasPrefix(msg, "dbus:") || strings.Contains(lower, "autolaunch") ||
		strings.Contains(msg, "dbus-launch") || strings.Contains(msg, "DBUS_SESSION_BUS_ADDRESS") ||
		strings.Contains(msg, "connect: no such file or directory") ||
		strings.Contains(msg, "connect: connection refused")
}
