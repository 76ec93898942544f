//go:build linux

package localapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/broker"
)

// decideSrc is a program that is not Airlock: it answers a pending request on the
// socket, claiming to be the app, and prints the HTTP status and body.
const decideSrc = `package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", os.Args[1])
	}}}
	body := ` + "`" + `{"id":"` + "`" + ` + os.Args[2] + ` + "`" + `","outcome":"allow","scope":"always","channel":"` + "`" + ` + os.Args[3] + ` + "`" + `"}` + "`" + `
	resp, err := c.Post("http://airlock.local/v0/decide", "application/json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(b)))
}
`

// Only the Airlock executable may answer on the app's channel: another program running as
// the same user is refused, so it cannot step around cli_approvals; the app (here, this
// very process) still can.
func TestAppChannelNeedsTheAirlockExecutable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a helper program")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(decideSrc), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module decide\ngo 1.22\n"), 0o600)
	bin := filepath.Join(dir, "decide")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build helper: %v\n%s", err, out)
	}

	e := serve(t, broker.Options{})
	ctx := context.Background()
	ch := e.ask(ctx, toolCall())
	id := e.next(t, "pending").ID
	for channel, want := range map[string]string{"app": `"code":"not_app"`, "cli": `"code":"cli_disabled"`} {
		out, err := exec.Command(bin, e.sock, id, channel).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "403 ") || !strings.Contains(string(out), want) {
			t.Errorf("another program deciding on channel %s: %s (%v), want %s…", channel, out, err, want)
		}
	}
	if p, err := e.client.Pending(ctx); err != nil || len(p) != 1 {
		t.Fatalf("pending after the refused decisions: %v, %v", p, err)
	}
	if err := e.client.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Deny, Channel: apitype.ChannelApp}); err != nil {
		t.Fatalf("the app's own decision: %v", err)
	}
	if r := recv(t, ch); r.err != nil || r.d.Outcome != apitype.Deny {
		t.Errorf("asker got %+v, %v", r.d, r.err)
	}
}
