package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/ingress"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/store/secret"
)

const defaultServeAddr = "127.0.0.1:3765"

func init() {
	register(&command{
		name:  "serve",
		usage: "serve [--addr 127.0.0.1:PORT] [--print-token] [--no-token]",
		summary: `Serve every server in $AIRLOCK_HOME/servers.json over streamable HTTP on loopback,
at http://ADDR/mcp/NAME, for IDEs that prefer URLs. Requests need the bearer token that
--print-token shows, unless --no-token.`,
		run: runServe,
	})
}

func runServe(ctx context.Context, env *Env, args []string) error {
	tuneMemory(ctx, env)
	c := commands["serve"]
	fs := newFlags(env, c)
	addr := fs.String("addr", defaultServeAddr, "loopback `address` to listen on (port 0 picks a free one)")
	printToken := fs.Bool("print-token", false, "print the bearer token clients must send, and exit")
	noToken := fs.Bool("no-token", false, "accept requests without a token (for clients that cannot send headers)")
	maxMsg := fs.Int("max-message-size", jsonrpc.DefaultMaxMessageSize, "refuse messages larger than this many `bytes`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	home, err := config.EnsureHome()
	if err != nil {
		return err
	}
	if err := checkLoopback(*addr); err != nil && !*printToken {
		return usagef("%v", err)
	}
	var token string
	if *printToken || !*noToken {
		if token, err = serveToken(home); err != nil {
			return err
		}
	}
	if *printToken {
		fmt.Fprintln(env.Stdout, token)
		return nil
	}
	path := config.ServersPath(home)
	servers, err := config.LoadServers(path)
	if err != nil {
		return err
	}
	if len(servers.MCPServers) == 0 {
		return fmt.Errorf("no servers to serve: add some to %s", path)
	}
	cons, err := openConsent(env)
	if err != nil {
		return err
	}
	defer cons.Close()
	srv := &ingress.Server{
		Backends:   map[string]ingress.Backend{},
		Middleware: func(name string) []proxy.Middleware { return cons.chain(name, logger(env.Stderr)) },
		MaxMessage: *maxMsg,
		Logf:       logger(env.Stderr),
	}
	if !*noToken {
		srv.Token = token
	}
	for _, name := range servers.Names() {
		srv.Backends[name] = ingress.Backend{Dial: dialer(name, servers.MCPServers[name], *maxMsg, env, cons)}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(env.Stderr, "airlock serve: listening on %s\n", base)
	for _, name := range servers.Names() {
		fmt.Fprintf(env.Stderr, "  %s/mcp/%s\n", base, name)
	}
	if *noToken {
		fmt.Fprintln(env.Stderr, "airlock serve: WARNING: --no-token: any program running as any user on this machine can now use these servers through Airlock without a token. Browsers are still refused (Host and Origin checks, and only application/json POSTs, which a web page cannot send cross-origin without a CORS preflight that Airlock never grants).")
	} else {
		fmt.Fprintln(env.Stderr, "airlock serve: clients must send \"Authorization: Bearer TOKEN\"; see `airlock serve --print-token`")
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	srv.Close() // end sessions first so their open streams finish
	hs.Shutdown(shutCtx)
	return nil
}

// checkLoopback refuses to listen anywhere but a loopback address.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid --addr %q: %v", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to listen on %q: airlock serve only binds loopback addresses (127.0.0.1, ::1, localhost)", addr)
	}
	return nil
}

// serveTokenName is the keyring entry holding airlock serve's bearer token.
const serveTokenName = "serve-token"

// serveToken returns the bearer token for airlock serve, creating it on first use. It
// lives in the OS keyring, like every credential Airlock handles; a token file left by an
// older Airlock is moved there and deleted. Without a keyring it fails and says so:
// --no-token is the explicit way to run without one.
func serveToken(home string) (string, error) {
	ss, err := secret.New(home)
	if err != nil {
		return "", err
	}
	noKeyring := func(err error) error {
		return fmt.Errorf("airlock serve keeps its bearer token in the OS keyring: %w (or run airlock serve --no-token, which lets any local program use your servers)", err)
	}
	tok, err := ss.Get(serveTokenName)
	if err == nil && len(tok) >= 32 {
		return tok, nil
	}
	if err != nil && !errors.Is(err, secret.ErrNotFound) {
		return "", noKeyring(err)
	}
	legacy := filepath.Join(home, "serve-token")
	if b, err := os.ReadFile(legacy); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		tok = strings.TrimSpace(string(b))
	} else {
		var raw [32]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", err
		}
		tok = base64.RawURLEncoding.EncodeToString(raw[:])
	}
	if err := ss.Set(serveTokenName, tok); err != nil {
		return "", noKeyring(err)
	}
	if err := os.Remove(legacy); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("remove the old token file %s (the token is now in the keyring): %w", legacy, err)
	}
	return tok, nil
}
