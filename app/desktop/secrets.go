package desktop

import (
	"errors"

	"github.com/airlock-mcp/airlock/store"
	"github.com/airlock-mcp/airlock/store/secret"
)

func (a *App) secretStore() (*secret.Store, error) {
	if a.secrets == nil {
		return nil, errors.New("the secret store is not available")
	}
	return a.secrets, nil
}

// Secrets lists the names of the secrets in the OS keyring; values never leave Go.
func (a *App) Secrets() ([]string, error) {
	ss, err := a.secretStore()
	if err != nil {
		return nil, err
	}
	names, err := ss.List()
	if names == nil {
		names = []string{}
	}
	return names, err
}

// SetSecret stores value under name in the OS keyring, for "${keyring:NAME}" in
// servers.json; from now on the log redacts it.
func (a *App) SetSecret(name, value string) error {
	ss, err := a.secretStore()
	if err != nil {
		return err
	}
	if value == "" {
		return errors.New("set secret: the value is empty")
	}
	if err := ss.Set(name, value); err != nil {
		return err
	}
	a.refreshRedactor(ss)
	return nil
}

// DeleteSecret removes the secret name from the OS keyring.
func (a *App) DeleteSecret(name string) error {
	ss, err := a.secretStore()
	if err != nil {
		return err
	}
	// The redactor keeps the deleted value until the app restarts: it may still turn up.
	return ss.Delete(name)
}

// refreshRedactor teaches the log's redactor the keyring's current values.
func (a *App) refreshRedactor(ss *secret.Store) {
	if vals, err := ss.Values(); err == nil && a.log != nil {
		a.log.SetRedactor(&store.Redactor{Known: vals})
	}
}
