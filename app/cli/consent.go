package cli

import (
	"sync"

	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/pins"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/guard"
	"github.com/airlock-mcp/airlock/store"
)

// consent is what a proxy needs to guard its sessions: the policy, the decision log and
// the way to the broker.
type consent struct {
	paths  paths
	policy *policy.Policy
	log    *store.Log
	broker *client.Client

	mu     sync.Mutex
	guards []*guard.Guard
}

func openConsent(env *Env) (*consent, error) {
	p, err := homePaths()
	if err != nil {
		return nil, err
	}
	pol, err := policy.Load(p.policy)
	if err != nil {
		return nil, err
	}
	lg, err := openLog(p)
	if err != nil {
		return nil, err
	}
	return &consent{paths: p, policy: pol, log: lg, broker: &client.Client{Socket: p.socket}}, nil
}

// Close waits for decisions still being recorded, then closes the log.
func (c *consent) Close() error {
	c.mu.Lock()
	guards := c.guards
	c.mu.Unlock()
	for _, g := range guards {
		g.Flush()
	}
	return c.log.Close()
}

// launcher returns the launch-consent check for stdio servers.
func (c *consent) launcher() *guard.Launcher {
	return &guard.Launcher{Policy: c.policy, Asker: c.broker, Log: c.log, Pins: pins.Open(c.paths.pins)}
}

// chain returns the interceptors for one session with server name.
func (c *consent) chain(name string, logf func(string, ...any)) []proxy.Middleware {
	g := &guard.Guard{
		Server: name,
		Policy: c.policy,
		Asker:  c.broker,
		Log:    c.log,
		Redact: c.log.Redactor().RedactJSON,
		Logf:   logf,
	}
	c.mu.Lock()
	c.guards = append(c.guards, g)
	c.mu.Unlock()
	return append([]proxy.Middleware{proxy.Handshake()}, g.Middleware()...)
}
