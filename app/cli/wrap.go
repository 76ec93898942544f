package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/consent/launch"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

func init() {
	register(&command{
		name:  "wrap",
		usage: "wrap [--name NAME] [--] CMD [ARG…]  |  wrap --name NAME --url URL [--header K=V…]",
		summary: `Serve MCP on stdio for an IDE, relaying to a server Airlock starts (CMD) or reaches (--url).
Point the IDE's MCP config at "airlock wrap -- CMD ARG…" instead of "CMD ARG…".`,
		run: runWrap,
	})
	register(&command{
		name:    "run",
		usage:   "run NAME",
		summary: "Serve MCP on stdio for an IDE, relaying to the server NAME defined in $AIRLOCK_HOME/servers.json.",
		run:     runRun,
	})
}

// headerFlag collects repeated --header K=V flags.
type headerFlag map[string]string

func (h headerFlag) String() string { return "" }

func (h headerFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		k, val, ok = strings.Cut(v, ":")
	}
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("want K=V, got %q", v)
	}
	h[k] = strings.TrimSpace(val)
	return nil
}

func runWrap(ctx context.Context, env *Env, args []string) error {
	tuneMemory(ctx, env)
	c := commands["wrap"]
	fs := newFlags(env, c)
	name := fs.String("name", "", "the server's name, as shown in approvals and the log (default: the command's base name or the URL's host)")
	rawURL := fs.String("url", "", "reach a remote server over streamable HTTP instead of starting a command")
	headers := headerFlag{}
	fs.Var(headers, "header", "with --url: an HTTP header `K=V` to send upstream (repeatable)")
	maxMsg := fs.Int("max-message-size", jsonrpc.DefaultMaxMessageSize, "refuse messages larger than this many `bytes`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	argv := fs.Args()
	var srv config.Server
	switch {
	case *rawURL != "" && len(argv) > 0:
		return usagef("give either --url or a command, not both")
	case *rawURL != "":
		srv = config.Server{URL: *rawURL, Headers: headers}
		if *name == "" {
			if u, err := url.Parse(*rawURL); err == nil {
				*name = u.Hostname()
			}
		}
	case len(argv) == 0:
		return usagef("missing the command to run")
	default:
		if len(headers) > 0 {
			return usagef("--header only applies with --url")
		}
		srv = config.Server{Command: argv[0], Args: argv[1:]}
		if *name == "" {
			*name = filepath.Base(argv[0])
		}
	}
	if !config.ValidName(*name) {
		*name = sanitizeName(*name)
	}
	cfg := config.Servers{MCPServers: map[string]config.Server{*name: srv}}
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	return relayStdio(ctx, env, *name, srv, *maxMsg)
}

func runRun(ctx context.Context, env *Env, args []string) error {
	tuneMemory(ctx, env)
	c := commands["run"]
	fs := newFlags(env, c)
	maxMsg := fs.Int("max-message-size", jsonrpc.DefaultMaxMessageSize, "refuse messages larger than this many `bytes`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one server name")
	}
	name := fs.Arg(0)
	home, err := config.Home()
	if err != nil {
		return err
	}
	path := config.ServersPath(home)
	servers, err := config.LoadServers(path)
	if err != nil {
		return err
	}
	srv, ok := servers.MCPServers[name]
	if !ok {
		known := strings.Join(servers.Names(), ", ")
		if known == "" {
			known = "none"
		}
		return fmt.Errorf("no server %q in %s (known: %s)", name, path, known)
	}
	return relayStdio(ctx, env, name, srv, *maxMsg)
}

// sanitizeName turns a command's base name into a valid server name.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	out := strings.TrimLeft(b.String(), "._-")
	if out == "" {
		out = "server"
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}

// relayStdio serves the IDE on this process's stdio, relaying to srv.
func relayStdio(ctx context.Context, env *Env, name string, srv config.Server, maxMsg int) error {
	client := transport.Stdio(maxMsg)
	defer client.Close()
	logf := logger(env.Stderr)
	c, err := openConsent(env)
	if err != nil {
		// Fail closed: without its policy or log Airlock must not relay unguarded.
		logf("airlock: %v", err)
		proxy.Refuse(ctx, client, fmt.Errorf("airlock cannot guard server %q: %w", name, err))
		return &exitError{code: 1}
	}
	defer c.Close()
	err = proxy.Relay(ctx, client, dialer(name, srv, maxMsg, env, c), proxy.Options{
		Name:       name,
		Middleware: c.chain(name, logf),
		Logf:       logf,
	})
	if err != nil {
		// The reason is already on stderr and, where it mattered, in a JSON-RPC error.
		return &exitError{code: 1}
	}
	return nil
}

// dialer returns how to reach srv. A local server starts only after launch consent;
// "${keyring:NAME}" references in its env (or a remote server's headers) are resolved
// from the OS keyring at that moment and recorded as secret uses. A nil c starts the
// server unconditionally with references unresolved (tests of the relay alone).
func dialer(name string, srv config.Server, maxMsg int, env *Env, c *consent) proxy.Dialer {
	return func(ctx context.Context) (transport.Conn, error) {
		if srv.Remote() {
			headers := srv.Headers
			if c != nil {
				var err error
				if headers, err = c.resolveSecrets(ctx, name, "header", srv.Headers); err != nil {
					return nil, err
				}
			}
			auth, err := c.oauthFor(ctx, name, srv.URL, srv.OAuth)
			if err != nil {
				return nil, err
			}
			return dialRemoteAuth(ctx, name, srv.URL, headers, maxMsg, auth, logger(env.Stderr))
		}
		argv := append([]string{srv.Command}, srv.Args...)
		// A command that cannot run is reported as such, without asking anyone to
		// approve it; one that can run never starts without the consent check.
		if _, err := transport.LookPath(argv[0], srv.Cwd); err != nil {
			return nil, &transport.StartError{Name: name, Err: err}
		}
		vars := srv.Env
		if c != nil {
			// Consent is about the command as configured: references, not secret values.
			cmd := launch.Resolve(launch.Command{Name: name, Argv: argv, Dir: srv.Cwd, Env: srv.Env}, nil)
			if err := c.launcher().Check(ctx, cmd); err != nil {
				return nil, err
			}
			var err error
			if vars, err = c.resolveSecrets(ctx, name, "env", srv.Env); err != nil {
				return nil, err
			}
		}
		environ := os.Environ()
		for k, v := range vars {
			environ = append(environ, k+"="+v)
		}
		p, err := transport.Start(transport.Spec{
			Name:       name,
			Argv:       argv,
			Dir:        srv.Cwd,
			Env:        environ,
			Stderr:     env.Stderr,
			MaxMessage: maxMsg,
		})
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}
