package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/client"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/proxy"
	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
	"github.com/airlock-mcp/airlock/proxy/transport"
	"github.com/airlock-mcp/airlock/store"
)

var update = flag.Bool("update", false, "rewrite the want-* sections of testdata/gate/*.txtar")

// A golden transcript is a txtar archive:
//
//	-- policy.toml --     the user's policy (may be empty)
//	-- tools --           the tools/list result the server gives
//	-- client --          messages from the IDE, one per line, sent in order
//	-- broker --          how the person answers each ask, one per line: allow, deny,
//	                      or down (no broker running)
//	-- want-server --     the tools/call names that reached the server, in order
//	-- want-client --     one line per answer the IDE got: "ID ok", "ID refused: TEXT",
//	                      "ID error CODE", or "ID tools: a,b"
//	-- want-decisions --  the logged decisions: "tool outcome decided-by tier N"
//
// Run with -update to rewrite the want-* sections from what happened.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/gate/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runGolden(t, file)
		})
	}
}

type section map[string]string

func sections(a *txtar.Archive) section {
	s := section{}
	for _, f := range a.Files {
		s[f.Name] = string(f.Data)
	}
	return s
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// scriptedAsker answers asks in order from the broker section.
type scriptedAsker struct {
	mu      sync.Mutex
	answers []string
	asked   int
}

func (a *scriptedAsker) Ask(ctx context.Context, req apitype.AskRequest) (apitype.Decision, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ans := "down"
	if a.asked < len(a.answers) {
		ans = a.answers[a.asked]
	}
	a.asked++
	switch ans {
	case "allow":
		return apitype.Decision{Outcome: apitype.Allow, Scope: apitype.Once, DecidedBy: "user"}, nil
	case "deny":
		return apitype.Decision{Outcome: apitype.Deny, Scope: apitype.Once, DecidedBy: "user", Reason: "denied by the user"}, nil
	}
	return apitype.Decision{}, &client.NotRunningError{Err: io.EOF}
}

// memLog is an in-memory Recorder.
type memLog struct {
	mu   sync.Mutex
	rows []store.Decision
}

func (l *memLog) Append(_ context.Context, d *store.Decision) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, *d)
	return int64(len(l.rows)), nil
}

func pipeConns() (a, b transport.Conn) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return transport.NewStream(ar, aw, func() error { ar.Close(); return aw.Close() }, 0),
		transport.NewStream(br, bw, func() error { br.Close(); return bw.Close() }, 0)
}

func runGolden(t *testing.T, file string) {
	archive, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sec := sections(archive)
	pol, err := policy.Parse("policy.toml", []byte(sec["policy.toml"]))
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	asker := &scriptedAsker{answers: lines(sec["broker"])}
	lg := &memLog{}
	g := &Guard{Server: "srv", Policy: pol, Asker: asker, Log: lg}

	ideSide, proxyClient := pipeConns()
	proxyServer, serverSide := pipeConns()
	sess := proxy.NewSession(context.Background(), proxyClient, proxyServer, proxy.Options{
		Name: "srv", Middleware: append([]proxy.Middleware{proxy.Handshake()}, g.Middleware()...),
	})
	done := make(chan error, 1)
	go func() { done <- sess.Run() }()

	// The fake server answers tools/list from the archive and runs every call.
	var serverCalls []string
	go func() {
		for {
			m, err := serverSide.Read()
			if err != nil {
				return
			}
			if m.Kind != jsonrpc.KindRequest {
				continue
			}
			var reply *jsonrpc.Message
			switch m.Method {
			case "tools/list":
				reply, _ = jsonrpc.NewResult(m.ID, json.RawMessage(sec["tools"]))
			case "tools/call":
				var p struct{ Name string }
				json.Unmarshal(m.Params, &p)
				serverCalls = append(serverCalls, p.Name)
				reply, _ = jsonrpc.NewResult(m.ID, map[string]any{"content": []any{map[string]any{"type": "text", "text": "ran " + p.Name}}})
			default:
				reply, _ = jsonrpc.NewResult(m.ID, map[string]any{})
			}
			serverSide.Write(reply)
		}
	}()

	// Send each request and wait for its answer before the next, so the transcript is
	// deterministic.
	var got []string
	for _, l := range lines(sec["client"]) {
		m, err := jsonrpc.Parse([]byte(l))
		if err != nil {
			t.Fatalf("client line %q: %v", l, err)
		}
		if err := ideSide.Write(m); err != nil {
			t.Fatal(err)
		}
		if m.Kind != jsonrpc.KindRequest {
			continue
		}
		resp, err := ideSide.Read()
		if err != nil {
			t.Fatalf("reading answer to %s: %v", m.ID, err)
		}
		got = append(got, summarize(resp))
	}
	ideSide.Close()
	<-done
	g.Flush()

	var decisions []string
	for _, d := range lg.rows {
		decisions = append(decisions, fmt.Sprintf("%s %s %s tier %d", d.Tool, d.Outcome, d.DecidedBy, d.Tier))
	}
	sort.Strings(decisions)
	want := map[string][]string{
		"want-server":    serverCalls,
		"want-client":    got,
		"want-decisions": decisions,
	}
	if *update {
		for i, f := range archive.Files {
			if w, ok := want[f.Name]; ok {
				archive.Files[i].Data = []byte(strings.Join(w, "\n") + "\n")
			}
		}
		if err := os.WriteFile(file, txtar.Format(archive), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for name, w := range want {
		if diff := cmp.Diff(nonNil(lines(sec[name])), nonNil(w)); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func summarize(m *jsonrpc.Message) string {
	if e := m.ErrorObject(); e != nil {
		return fmt.Sprintf("%s error %d", m.ID, e.Code)
	}
	var r struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	json.Unmarshal(m.Result, &r)
	switch {
	case r.Tools != nil || bytes.Contains(m.Result, []byte(`"tools"`)):
		var names []string
		for _, t := range r.Tools {
			names = append(names, t.Name)
		}
		return fmt.Sprintf("%s tools: %s", m.ID, strings.Join(names, ","))
	case r.IsError:
		text := ""
		if len(r.Content) > 0 {
			text = r.Content[0].Text
		}
		return fmt.Sprintf("%s refused: %s", m.ID, text)
	}
	return fmt.Sprintf("%s ok", m.ID)
}
