// Package apitype holds the wire types of the broker's local API, shared by the broker,
// its clients (proxies, the CLI) and the desktop app without pulling in either side.
package apitype

import (
	"encoding/json"
	"time"
)

// Kind is what an approval request is about.
type Kind string

// Request kinds.
const (
	KindToolCall    Kind = "tool_call"
	KindLaunch      Kind = "launch"
	KindElicitation Kind = "elicitation"
	KindOAuth       Kind = "oauth"
)

// Outcome is a decision's result.
type Outcome string

// Outcomes. Deny wins.
const (
	Allow Outcome = "allow"
	Deny  Outcome = "deny"
)

// Scope is how long an allow lasts.
type Scope string

// Scopes.
const (
	Once    Scope = "once"
	Session Scope = "session"
	Always  Scope = "always"
)

// Channel is where a person decided.
type Channel string

// Channels.
const (
	ChannelApp Channel = "app"
	ChannelCLI Channel = "cli"
)

// Reason is one thing that made a tool call's tier what it is.
type Reason struct {
	Source string `json:"source"`
	Tier   int    `json:"tier"`
	Text   string `json:"text"`
}

// Span marks a dangerous part of a launch command.
type Span struct {
	// Where is "arg" (Arg is the index into Argv), "env" (EnvKey names the variable)
	// or "exe".
	Where    string `json:"where"`
	Arg      int    `json:"arg"`
	EnvKey   string `json:"envKey,omitempty"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Text     string `json:"text"`
	Category string `json:"category"`
	Severity string `json:"severity"`
	Why      string `json:"why"`
}

// EnvVar is one environment variable of a launch, with secret values masked.
type EnvVar struct {
	Key     string `json:"key"`
	Display string `json:"display"`
	Secret  bool   `json:"secret"`
}

// Launch describes a command Airlock is about to start.
type Launch struct {
	Argv        []string `json:"argv"`
	Dir         string   `json:"dir"`
	Executable  string   `json:"executable"`
	Env         []EnvVar `json:"env"`
	Spans       []Span   `json:"spans"`
	Fingerprint string   `json:"fingerprint"`
	// Changes lists what differs from the command approved before, if any.
	Changes []string `json:"changes,omitempty"`
}

// AskRequest asks a person to decide.
type AskRequest struct {
	Kind    Kind   `json:"kind"`
	Server  string `json:"server"`
	Client  string `json:"client,omitempty"`  // the IDE's name
	Session string `json:"session,omitempty"` // the proxy session
	// Tool calls.
	Tool      string          `json:"tool,omitempty"`
	Tier      int             `json:"tier"`
	Reasons   []Reason        `json:"reasons,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"` // redacted
	ArgsHash  string          `json:"argsHash,omitempty"`
	// Protected marks a call that names Airlock's own files or an IDE's MCP settings:
	// standing grants for the tool do not cover it; only a person (or an approval of
	// this identical call) does.
	Protected bool `json:"protected,omitempty"`
	// Dangerous marks a call whose arguments are dangerous in themselves (a destructive
	// shell or SQL command, downloaded code run, a credential file changed): a grant for
	// the tool was given for other calls and does not cover it either.
	Dangerous bool `json:"dangerous,omitempty"`
	// Launches.
	Launch *Launch `json:"launch,omitempty"`
	// Elicitations and OAuth: what the server wants the browser to open.
	URL     string `json:"url,omitempty"`
	Message string `json:"message,omitempty"`
}

// Decision is a broker's answer.
type Decision struct {
	Outcome   Outcome `json:"outcome"`
	Scope     Scope   `json:"scope,omitempty"`
	DecidedBy string  `json:"decidedBy"` // user, grant, timeout
	Channel   string  `json:"channel,omitempty"`
	Reason    string  `json:"reason,omitempty"`
}

// Pending is a request waiting for a person.
type Pending struct {
	ID       string     `json:"id"`
	Created  time.Time  `json:"created"`
	Deadline time.Time  `json:"deadline"`
	Request  AskRequest `json:"request"`
}

// DecideRequest is a person's decision on a pending request.
type DecideRequest struct {
	ID      string  `json:"id"`
	Outcome Outcome `json:"outcome"`
	Scope   Scope   `json:"scope,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	Channel Channel `json:"channel"`
}

// Grant is a standing permission created by "allow for this session" or "always".
type Grant struct {
	ID       string    `json:"id"`
	Kind     Kind      `json:"kind"`
	Server   string    `json:"server"`
	Tool     string    `json:"tool,omitempty"`
	Scope    Scope     `json:"scope"`
	Session  string    `json:"session,omitempty"`  // session grants
	ArgsHash string    `json:"argsHash,omitempty"` // late-approval grants: one exact call
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
}

// Event is one line of the watch stream.
type Event struct {
	// Type is "snapshot" (first; Pending lists everything waiting), "pending" (a new
	// request), "decided" (ID was decided: Decision), "withdrawn" (ID's asker went away),
	// "grants" (Grants is the new list).
	Type     string    `json:"type"`
	Time     time.Time `json:"time"`
	ID       string    `json:"id,omitempty"`
	Pending  []Pending `json:"pending,omitempty"`
	Decision *Decision `json:"decision,omitempty"`
	Grants   []Grant   `json:"grants,omitempty"`
}

// Status describes a running broker.
type Status struct {
	Version      string `json:"version"`
	PID          int    `json:"pid"`
	Host         string `json:"host"` // "daemon" or "app"
	CLIApprovals bool   `json:"cliApprovals"`
	Pending      int    `json:"pending"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"` // machine-readable: not_found, forbidden, decided
}
