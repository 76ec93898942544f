package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/airlock-mcp/airlock/app/config"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/consent/risk"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/guard"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
)

func init() {
	register(&command{
		name:  "tools",
		usage: "tools NAME [--json] [--timeout DURATION]",
		summary: `Start the server NAME from $AIRLOCK_HOME/servers.json, list its tools and show the tier
each would get and what the policy does with a call to it (with empty arguments).`,
		run: runTools,
	})
}

// toolsProtocolVersion is the MCP version `airlock tools` asks for.
const toolsProtocolVersion = "2025-11-25"

// maxToolPages caps how many tools/list pages `airlock tools` follows.
const maxToolPages = 100

// toolReport is one tool as `airlock tools --json` prints it.
type toolReport struct {
	Name        string            `json:"name"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Annotations *risk.Annotations `json:"annotations,omitempty"`
	Tier        risk.Tier         `json:"tier"`
	// OnCall says what a call does: "deny" (a policy rule refuses it), "ask" (a person
	// decides), "allow" (a policy rule allows it) or "pass" (allowed and logged by tier).
	OnCall  string        `json:"on_call"`
	Hidden  bool          `json:"hidden"` // the policy removes it from tools/list
	Rule    int           `json:"rule,omitempty"`
	Reasons []risk.Reason `json:"reasons"`
}

type toolsReport struct {
	Server        string       `json:"server"`
	ServerName    string       `json:"server_name,omitempty"`
	ServerVersion string       `json:"server_version,omitempty"`
	Protocol      string       `json:"protocol_version,omitempty"`
	Truncated     bool         `json:"truncated,omitempty"` // more than maxToolPages pages
	Tools         []toolReport `json:"tools"`
}

func runTools(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, commands["tools"])
	asJSON := fs.Bool("json", false, "print JSON")
	timeout := fs.Duration("timeout", 60*time.Second, "give up if the server has not listed its tools within this long")
	if err := parseFlags(fs, reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one server name")
	}
	rep, err := toolsOf(ctx, env, fs.Arg(0), *timeout)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, rep)
	}
	printTools(env.Stdout, rep)
	return nil
}

// toolsOf starts the server name from servers.json (after launch consent), lists its
// tools and judges a call to each.
func toolsOf(ctx context.Context, env *Env, name string, timeout time.Duration) (toolsReport, error) {
	home, err := config.Home()
	if err != nil {
		return toolsReport{}, err
	}
	path := config.ServersPath(home)
	servers, err := config.LoadServers(path)
	if err != nil {
		return toolsReport{}, err
	}
	srv, ok := servers.MCPServers[name]
	if !ok {
		known := strings.Join(servers.Names(), ", ")
		if known == "" {
			known = "none"
		}
		return toolsReport{}, fmt.Errorf("no server %q in %s (known: %s)", name, path, known)
	}
	// The same consent as `airlock run`: the launch is checked (and asked about) first.
	cons, err := openConsent(env)
	if err != nil {
		return toolsReport{}, err
	}
	defer cons.Close()
	pol := cons.policy
	conn, err := dialer(name, srv, jsonrpc.DefaultMaxMessageSize, env, cons)(ctx)
	if err != nil {
		return toolsReport{}, err
	}
	// The timeout starts once the server runs, so a person has the broker's full
	// approval time to allow the launch.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g := &guard.Guard{Server: name, Policy: pol}
	observe := guardListObserver(ctx, g, name)
	rep := toolsReport{Server: name}
	var pages []*jsonrpc.Message
	err = withConn(ctx, conn, func(c *rpcClient) error {
		var err error
		pages, err = listTools(c, &rep)
		return err
	})
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return toolsReport{}, fmt.Errorf("server %q did not list its tools within %s", name, timeout)
		}
		return toolsReport{}, err
	}
	for _, pg := range pages {
		observe(pg)
	}
	rep.Tools = judgeTools(g, pol, name, pages)
	return rep, nil
}

// guardListObserver returns a function that shows g a tools/list result page the way the
// relay does, so g learns the tools' descriptions and annotations.
func guardListObserver(ctx context.Context, g *guard.Guard, name string) func(*jsonrpc.Message) {
	h := proxy.Handler(func(*proxy.Session, proxy.Direction, *jsonrpc.Message) {})
	mw := g.Middleware()
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	// The session only carries the name; no message is ever relayed through it.
	s := proxy.NewSession(ctx, nil, nil, proxy.Options{Name: name})
	return func(page *jsonrpc.Message) { h(s, proxy.ToClient, page) }
}

// withConn runs fn with a client on conn, then closes conn (which shuts a server process
// down). When ctx ends first, conn is closed to unblock fn and ctx's error is returned.
func withConn(ctx context.Context, conn transport.Conn, fn func(*rpcClient) error) error {
	done := make(chan error, 1)
	go func() { done <- fn(&rpcClient{conn: conn}) }()
	var err error
	select {
	case err = <-done:
		conn.Close()
	case <-ctx.Done():
		conn.Close()
		<-done
		err = ctx.Err()
	}
	return err
}

// listTools performs the MCP handshake and returns every tools/list response page, each
// with Request set to the request it answers.
func listTools(c *rpcClient, rep *toolsReport) ([]*jsonrpc.Message, error) {
	init, err := c.call("initialize", map[string]any{
		"protocolVersion": toolsProtocolVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "airlock-tools", "version": Version},
	})
	if err != nil {
		return nil, err
	}
	var ir struct {
		ProtocolVersion string `json:"protocolVersion"`
		ServerInfo      struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
	}
	json.Unmarshal(init.Result, &ir)
	rep.Protocol, rep.ServerName, rep.ServerVersion = ir.ProtocolVersion, ir.ServerInfo.Name, ir.ServerInfo.Version
	n, err := jsonrpc.NewNotification("notifications/initialized", nil)
	if err != nil {
		return nil, err
	}
	if err := c.conn.Write(n); err != nil {
		return nil, fmt.Errorf("send notifications/initialized: %w", err)
	}
	var pages []*jsonrpc.Message
	cursor := ""
	for range maxToolPages {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		resp, err := c.call("tools/list", params)
		if err != nil {
			return nil, err
		}
		pages = append(pages, resp)
		var r struct {
			NextCursor string `json:"nextCursor"`
		}
		json.Unmarshal(resp.Result, &r)
		if r.NextCursor == "" {
			return pages, nil
		}
		cursor = r.NextCursor
	}
	rep.Truncated = true
	return pages, nil
}

// rpcClient is a minimal MCP client over one Conn: it sends one request at a time and
// answers the server's own requests while it waits.
type rpcClient struct {
	conn transport.Conn
	next int64
}

// call sends a request and returns its successful response, with Request set.
func (c *rpcClient) call(method string, params any) (*jsonrpc.Message, error) {
	c.next++
	id := jsonrpc.IntID(c.next)
	req, err := jsonrpc.NewRequest(id, method, params)
	if err != nil {
		return nil, err
	}
	if err := c.conn.Write(req); err != nil {
		return nil, fmt.Errorf("send %s: %w", method, err)
	}
	for {
		m, err := c.conn.Read()
		if jsonrpc.IsBadMessage(err) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the server closed the connection", method)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		switch m.Kind {
		case jsonrpc.KindRequest:
			// A server may ping or ask for roots while it works; answer so it goes on.
			var reply *jsonrpc.Message
			if m.Method == "ping" {
				reply, _ = jsonrpc.NewResult(m.ID, struct{}{})
			} else {
				reply = jsonrpc.NewError(m.ID, jsonrpc.CodeMethodNotFound, "airlock tools does not support "+m.Method, nil)
			}
			if reply != nil {
				c.conn.Write(reply)
			}
		case jsonrpc.KindResponse:
			if m.ID.String() != id.String() {
				continue
			}
			if e := m.ErrorObject(); e != nil {
				return nil, fmt.Errorf("%s: the server answered with an error: %s", method, visible(e.Message))
			}
			m.Request = req
			return m, nil
		}
	}
}

// judgeTools assesses a call with empty arguments to every listed tool, in list order.
func judgeTools(g *guard.Guard, pol *policy.Policy, server string, pages []*jsonrpc.Message) []toolReport {
	out := []toolReport{}
	for _, pg := range pages {
		var r struct {
			Tools []json.RawMessage `json:"tools"`
		}
		json.Unmarshal(pg.Result, &r)
		for _, raw := range r.Tools {
			var t struct {
				Name        string            `json:"name"`
				Title       string            `json:"title"`
				Description string            `json:"description"`
				Annotations *risk.Annotations `json:"annotations"`
			}
			if json.Unmarshal(raw, &t) != nil || t.Name == "" {
				continue
			}
			a, v := g.Assess(t.Name, json.RawMessage(`{}`))
			tr := toolReport{
				Name: t.Name, Title: t.Title, Description: t.Description, Annotations: t.Annotations,
				Tier: a.Tier, Hidden: pol.Hidden(server, t.Name), Rule: v.Rule, Reasons: a.Reasons,
			}
			// The same order of checks as the guard's gate.
			switch {
			case v.Action == policy.Deny:
				tr.OnCall = "deny"
			case v.Action == policy.Allow:
				tr.OnCall = "allow"
			case v.Action == policy.Ask || a.Tier >= risk.Destructive:
				tr.OnCall = "ask"
			default:
				tr.OnCall = "pass"
			}
			if tr.Reasons == nil {
				tr.Reasons = []risk.Reason{}
			}
			out = append(out, tr)
		}
	}
	return out
}

func onCallWords(t toolReport) string {
	switch t.OnCall {
	case "deny":
		return fmt.Sprintf("denied by policy rule %d", t.Rule)
	case "allow":
		return fmt.Sprintf("allowed by policy rule %d", t.Rule)
	case "ask":
		if t.Rule > 0 {
			return fmt.Sprintf("asks a person (policy rule %d)", t.Rule)
		}
		return "asks a person"
	}
	return "passes without asking (logged)"
}

func printTools(w io.Writer, rep toolsReport) {
	hidden := 0
	for _, t := range rep.Tools {
		if t.Hidden {
			hidden++
		}
	}
	fmt.Fprintf(w, "server %s", rep.Server)
	if rep.ServerName != "" {
		fmt.Fprintf(w, " (%s %s)", cut(rep.ServerName, 64), cut(rep.ServerVersion, 32))
	}
	fmt.Fprintf(w, ": %s", plural(len(rep.Tools), "tool", "tools"))
	if hidden > 0 {
		fmt.Fprintf(w, ", %d hidden by the policy", hidden)
	}
	fmt.Fprintln(w)
	if rep.Truncated {
		fmt.Fprintf(w, "(stopped after %d pages of tools/list; the server kept offering more)\n", maxToolPages)
	}
	for _, t := range rep.Tools {
		fmt.Fprintf(w, "\n%s  %s  %s", cut(t.Name, 64), t.Tier, onCallWords(t))
		if t.Hidden {
			fmt.Fprint(w, "  [hidden from the agent]")
		}
		fmt.Fprintln(w)
		if t.Description != "" {
			fmt.Fprintf(w, "    %s\n", cut(t.Description, 120))
		}
		for _, r := range t.Reasons {
			fmt.Fprintf(w, "    - %s: %s\n", r.Source, cut(r.Text, 200))
		}
	}
}
