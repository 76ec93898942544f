package cli

import (
	"context"
	"fmt"
	"net/http"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/proxy/oauth"
	"github.com/airlock-mcp/airlock/proxy/remote"
	"github.com/airlock-mcp/airlock/proxy/transport"
	"github.com/airlock-mcp/airlock/store/secret"
)

// oauthFor returns the OAuth sign-in for the remote server name at serverURL: consent
// through the broker before any browser opens, tokens in the OS keyring, decisions in
// the log. cfg, when set, names a pre-registered client (its secret a keyring reference,
// resolved here) or a client ID metadata document. It returns nil (no sign-in: a 401 is
// reported as before) when c is nil or the secret store cannot be opened, and an error
// when the configured client secret cannot be read.
func (c *consent) oauthFor(ctx context.Context, name, serverURL string, cfg *config.OAuth) (remote.Authorizer, error) {
	if c == nil {
		return nil, nil
	}
	ss, err := secret.New(c.paths.home)
	if err != nil {
		if cfg != nil && cfg.ClientSecret != "" {
			return nil, fmt.Errorf("server %q: oauth.clientSecret: %w", name, err)
		}
		return nil, nil
	}
	oc := oauth.Config{Server: name, URL: serverURL, Home: c.paths.home, Secrets: ss, Asker: c.broker, Log: c.log}
	if cfg != nil {
		oc.ClientID, oc.ClientIssuer, oc.ClientMetadataURL = cfg.ClientID, cfg.Issuer, cfg.ClientMetadataURL
		oc.RedirectPort = cfg.RedirectPort
		if cfg.ClientSecret != "" {
			v, err := c.resolveSecrets(ctx, name, "oauth", map[string]string{"clientSecret": cfg.ClientSecret})
			if err != nil {
				return nil, err
			}
			oc.ClientSecret = v["clientSecret"]
		}
	}
	a, err := oauth.New(oc)
	if err != nil {
		return nil, nil
	}
	return a, nil
}

// dialRemoteAuth is dialRemote with auth signing in to the server when it asks; auth
// may be nil.
func dialRemoteAuth(ctx context.Context, name, rawURL string, headers map[string]string, maxMsg int, auth remote.Authorizer, logf func(string, ...any)) (transport.Conn, error) {
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	return remote.Dial(ctx, remote.Options{Name: name, URL: rawURL, Header: h, MaxMessage: maxMsg, Auth: auth, Logf: logf})
}
