package store

import (
	"testing"
	"time"
)

// The chain's row hash is part of the log format: logs written by earlier versions must
// still verify. This pins it for one row.
func TestRowHashFormat(t *testing.T) {
	d := &Decision{ID: 7, Time: time.Unix(1700000000, 123456789).UTC(), Kind: KindToolCall, Server: "fs",
		Client: "cursor", Session: "s1/cursor", Tool: "write_file", Tier: 2, Args: `{"path":"a.txt"}`,
		ArgsHash: "raw:00ff", Outcome: OutcomeAllow, DecidedBy: DecidedByPolicy, Channel: ChannelPolicy,
		Scope: ScopeOnce, Reason: "writes pass (ü)"}
	const want = "c9c9ed58cb99aed00eb12e434bbeaf75a50e747154a1ef6b3e922771233408f4" // as computed before the one-buffer rewrite
	if got := rowHash("prevhash", d); got != want {
		t.Errorf("rowHash = %s, want %s", got, want)
	}
}
