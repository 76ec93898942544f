package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/consent/apitype"
)

// airlock pending says when no permission for the tool would cover the call.
func TestPrintPendingSaysWhatGrantsDoNotCover(t *testing.T) {
	call := func(protected, dangerous bool) string {
		var b bytes.Buffer
		printPending(&b, apitype.Pending{ID: "p1", Deadline: time.Now().Add(time.Minute), Request: apitype.AskRequest{
			Kind: apitype.KindToolCall, Server: "sh", Tool: "run_command", Tier: 3,
			Protected: protected, Dangerous: dangerous, Arguments: []byte(`{"command":"rm -rf ~"}`)}})
		return b.String()
	}
	if out := call(false, true); !strings.Contains(out, "dangerous in themselves") {
		t.Errorf("dangerous call:\n%s", out)
	}
	if out := call(true, true); !strings.Contains(out, "Airlock's own files") || strings.Contains(out, "dangerous in themselves") {
		t.Errorf("protected call:\n%s", out)
	}
	if out := call(false, false); strings.Contains(out, "!") {
		t.Errorf("ordinary call:\n%s", out)
	}
}
