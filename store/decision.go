package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Kind is what a decision was about.
type Kind string

// Decision kinds.
const (
	KindLaunch      Kind = "launch"
	KindToolCall    Kind = "tool_call"
	KindElicitation Kind = "elicitation"
	KindOAuth       Kind = "oauth"
	KindSecretUse   Kind = "secret_use"
	KindPinChange   Kind = "pin_change"
)

// Outcome is the result of a decision. Deny wins.
type Outcome string

// Decision outcomes.
const (
	OutcomeAllow Outcome = "allow"
	OutcomeDeny  Outcome = "deny"
)

// DecidedBy names who (or what) made a decision.
type DecidedBy string

// Deciders.
const (
	DecidedByPolicy   DecidedBy = "policy"
	DecidedByGrant    DecidedBy = "grant"
	DecidedByUser     DecidedBy = "user"
	DecidedByTimeout  DecidedBy = "timeout"
	DecidedByFallback DecidedBy = "fallback"
)

// Channel is where a decision was taken.
type Channel string

// Channels.
const (
	ChannelApp         Channel = "app"
	ChannelCLI         Channel = "cli"
	ChannelElicitation Channel = "elicitation"
	ChannelPolicy      Channel = "policy"
	ChannelNone        Channel = "none"
)

// Scope is how long a decision lasts. The empty scope means not applicable.
type Scope string

// Scopes.
const (
	ScopeNone    Scope = ""
	ScopeOnce    Scope = "once"
	ScopeSession Scope = "session"
	ScopeAlways  Scope = "always"
)

// TierNone is the Tier of a decision to which risk tiers do not apply.
const TierNone = -1

// Decision is one row of the decision log.
//
// ID, Hash and PrevHash are assigned by [Log.Append] and filled in by
// [Log.Query]; values set by the caller of Append are ignored.
type Decision struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"` // UTC, nanosecond precision
	Kind      Kind      `json:"kind"`
	Server    string    `json:"server"`
	Client    string    `json:"client"` // IDE name
	Session   string    `json:"session"`
	Tool      string    `json:"tool"`
	Tier      int       `json:"tier"`      // TierNone (-1) when not applicable
	Args      string    `json:"args"`      // redacted JSON
	ArgsHash  string    `json:"args_hash"` // sha256 hex of the unredacted canonical args
	Outcome   Outcome   `json:"outcome"`
	DecidedBy DecidedBy `json:"decided_by"`
	Channel   Channel   `json:"channel"`
	Scope     Scope     `json:"scope"`
	Reason    string    `json:"reason"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// Validate reports an error if Kind, Outcome, DecidedBy, Channel or Scope is
// not one of the defined constants. Channel may be empty (treated as none).
func (d *Decision) Validate() error {
	switch d.Kind {
	case KindLaunch, KindToolCall, KindElicitation, KindOAuth, KindSecretUse, KindPinChange:
	default:
		return fmt.Errorf("invalid decision kind %q", d.Kind)
	}
	switch d.Outcome {
	case OutcomeAllow, OutcomeDeny:
	default:
		return fmt.Errorf("invalid decision outcome %q", d.Outcome)
	}
	switch d.DecidedBy {
	case DecidedByPolicy, DecidedByGrant, DecidedByUser, DecidedByTimeout, DecidedByFallback:
	default:
		return fmt.Errorf("invalid decided_by %q", d.DecidedBy)
	}
	switch d.Channel {
	case "", ChannelApp, ChannelCLI, ChannelElicitation, ChannelPolicy, ChannelNone:
	default:
		return fmt.Errorf("invalid decision channel %q", d.Channel)
	}
	switch d.Scope {
	case ScopeNone, ScopeOnce, ScopeSession, ScopeAlways:
	default:
		return fmt.Errorf("invalid decision scope %q", d.Scope)
	}
	return nil
}

// chainTag versions the canonical row encoding; change it only together with
// a migration that rehashes every row.
const chainTag = "airlock-decision-v1"

// rowHash returns the hex sha256 of prev followed by the canonical encoding of
// every field of d except Hash and PrevHash: fixed-width big-endian integers
// and length-prefixed strings, so no two distinct rows encode alike.
func rowHash(prev string, d *Decision) string {
	fields := [...]string{
		string(d.Kind), d.Server, d.Client, d.Session, d.Tool,
		d.Args, d.ArgsHash, string(d.Outcome), string(d.DecidedBy),
		string(d.Channel), string(d.Scope), d.Reason,
	}
	n := len(chainTag) + len(prev) + 8*(len(fields)+5)
	for _, f := range fields {
		n += len(f)
	}
	// One buffer, one hash: the same bytes the chain has always hashed (each string
	// preceded by its length, integers big-endian).
	b := make([]byte, 0, n)
	b = appendStr(b, chainTag)
	b = appendStr(b, prev)
	b = binary.BigEndian.AppendUint64(b, uint64(d.ID))
	b = binary.BigEndian.AppendUint64(b, uint64(d.Time.UnixNano()))
	for _, f := range fields[:5] {
		b = appendStr(b, f)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(int64(d.Tier)))
	for _, f := range fields[5:] {
		b = appendStr(b, f)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(int64(len(s))))
	return append(b, s...)
}

// HashArgs returns the sha256 hex of the canonical form of the JSON value
// args: object keys sorted, insignificant white space removed, numbers kept
// as written. Input that is not valid JSON is hashed as is. Empty input
// hashes to "".
func HashArgs(args json.RawMessage) string {
	if len(bytes.TrimSpace(args)) == 0 {
		return ""
	}
	b, err := canonicalJSON(args)
	if err != nil {
		b = args
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalJSON re-encodes a JSON value with sorted keys and no HTML escaping.
func canonicalJSON(raw []byte) ([]byte, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return encodeJSON(v)
}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode json: trailing data")
	}
	return v, nil
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
