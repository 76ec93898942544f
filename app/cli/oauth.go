package cli

import (
	"context"
	"net/http"

	"github.com/airlock-mcp/airlock/proxy/oauth"
	"github.com/airlock-mcp/airlock/proxy/remote"
	"github.com/airlock-mcp/airlock/proxy/transport"
	"github.com/airlock-mcp/airlock/store/secret"
)

// oauthFor returns the OAuth sign-in for the remote server name at serverURL: consent
// through the broker before any browser opens, tokens in the OS keyring, decisions in
// the log. It returns nil (no sign-in: a 401 is reported as before) when c is nil or the
// secret store cannot be opened.
func (c *consent) oauthFor(name, serverURL string) remote.Authorizer {
	if c == nil {
		return nil
	}
	ss, err := secret.New(c.paths.home)
	if err != nil {
		return nil
	}
	a, err := oauth.New(oauth.Config{Server: name, URL: serverURL, Home: c.paths.home, Secrets: ss, Asker: c.broker, Log: c.log})
	if err != nil {
		return nil
	}
	return a
}

// dialRemoteAuth is dialRemote with auth signing in to the server when it asks; auth
// may be nil.
func dialRemoteAuth(ctx context.Context, name, rawURL string, headers map[string]string, maxMsg int, auth remote.Authorizer) (transport.Conn, error) {
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	return remote.Dial(ctx, remote.Options{Name: name, URL: rawURL, Header: h, MaxMessage: maxMsg, Auth: auth})
}
