package broker

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/airlock-mcp/airlock/consent/apitype"
	"github.com/airlock-mcp/airlock/consent/policy"
	"github.com/airlock-mcp/airlock/store"
)

// ghToken is shaped like a GitHub token (ghp_ + 36 characters); it must never reach the log.
const ghToken = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"

func call(session, tool, args string) apitype.AskRequest {
	r := apitype.AskRequest{Kind: apitype.KindToolCall, Server: "github", Client: "ide", Session: session, Tool: tool, Tier: 3}
	if args != "" {
		r.Arguments = json.RawMessage(args)
		r.ArgsHash = store.HashArgs(r.Arguments)
	}
	return r
}

type askResult struct {
	d   apitype.Decision
	err error
}

// ask runs b.Ask in its own goroutine; the answer arrives on the returned channel.
func ask(ctx context.Context, b *Broker, req apitype.AskRequest) <-chan askResult {
	ch := make(chan askResult, 1)
	go func() {
		d, err := b.Ask(ctx, req)
		ch <- askResult{d, err}
	}()
	return ch
}

func newBroker(t *testing.T, o Options) *Broker {
	t.Helper()
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// onlyPending waits (in a synctest bubble) until every goroutine is blocked and returns the
// id of the single pending request.
func onlyPending(t *testing.T, b *Broker) string {
	t.Helper()
	synctest.Wait()
	p := b.Pending()
	if len(p) != 1 {
		t.Fatalf("Pending() = %d requests, want 1: %+v", len(p), p)
	}
	return p[0].ID
}

// answered reports the answer if Ask has returned (call after synctest.Wait).
func answered(ch <-chan askResult) (askResult, bool) {
	select {
	case r := <-ch:
		return r, true
	default:
		return askResult{}, false
	}
}

func mustAnswer(t *testing.T, ch <-chan askResult) askResult {
	t.Helper()
	synctest.Wait()
	r, ok := answered(ch)
	if !ok {
		t.Fatal("Ask has not returned, want an answer")
	}
	return r
}

// mustWait checks that an Ask is held (not answered from a grant) and then clears it by
// denying it, so the bubble can end.
func mustWait(t *testing.T, b *Broker, ch <-chan askResult, why string) {
	t.Helper()
	synctest.Wait()
	if r, ok := answered(ch); ok {
		t.Fatalf("%s: Ask returned at once with %+v, want it to wait for a person", why, r.d)
	}
	id := onlyPending(t, b)
	if err := b.Decide(context.Background(), apitype.DecideRequest{ID: id, Outcome: apitype.Deny, Channel: apitype.ChannelApp}); err != nil {
		t.Fatal(err)
	}
	<-ch
}

func decide(t *testing.T, b *Broker, id string, o apitype.Outcome, s apitype.Scope) {
	t.Helper()
	if err := b.Decide(context.Background(), apitype.DecideRequest{ID: id, Outcome: o, Scope: s, Channel: apitype.ChannelApp}); err != nil {
		t.Fatalf("Decide(%s %s): %v", o, s, err)
	}
}

func TestAskBlocksUntilDecide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{})
		ctx := context.Background()
		ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
		id := onlyPending(t, b)
		if _, ok := answered(ch); ok {
			t.Fatal("Ask returned before anyone decided")
		}
		time.Sleep(DefaultTimeout - time.Second) // fake time: still waiting just before the deadline
		synctest.Wait()
		if _, ok := answered(ch); ok {
			t.Fatal("Ask returned before the deadline")
		}
		decide(t, b, id, apitype.Allow, "")
		r := mustAnswer(t, ch)
		want := apitype.Decision{Outcome: apitype.Allow, Scope: apitype.Once, DecidedBy: "user", Channel: "app", Reason: "approved by the user"}
		if r.err != nil || !cmp.Equal(want, r.d) {
			t.Fatalf("Ask = %+v, %v; want %+v (-want +got):\n%s", r.d, r.err, want, cmp.Diff(want, r.d))
		}
		if g := b.Grants(); len(g) != 0 {
			t.Errorf("allow once created grants %+v", g)
		}
		if p := b.Pending(); len(p) != 0 {
			t.Errorf("Pending after decision = %+v", p)
		}
		mustWait(t, b, ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`)), "after allow once")
	})
}

func TestSessionGrant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{})
		ctx := context.Background()
		ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
		decide(t, b, onlyPending(t, b), apitype.Allow, apitype.Session)
		if r := mustAnswer(t, ch); r.d.Outcome != apitype.Allow || r.d.Scope != apitype.Session {
			t.Fatalf("Ask = %+v", r.d)
		}
		gs := b.Grants()
		if len(gs) != 1 || gs[0].Scope != apitype.Session || gs[0].Session != "s1" || gs[0].Tool != "delete_file" || gs[0].ArgsHash != "" {
			t.Fatalf("Grants = %+v, want one session grant for s1/delete_file", gs)
		}
		// Same session, same (server, tool), other arguments: allowed by the grant.
		r := mustAnswer(t, ask(ctx, b, call("s1", "delete_file", `{"path":"b"}`)))
		if r.d.Outcome != apitype.Allow || r.d.DecidedBy != "grant" || r.d.Scope != apitype.Session {
			t.Errorf("same session: %+v, want allow by grant", r.d)
		}
		mustWait(t, b, ask(ctx, b, call("s2", "delete_file", `{"path":"a"}`)), "other session")
		mustWait(t, b, ask(ctx, b, call("s1", "delete_repo", `{"path":"a"}`)), "other tool")
		other := call("s1", "delete_file", `{"path":"a"}`)
		other.Server = "fs"
		mustWait(t, b, ask(ctx, b, other), "other server")

		b.EndSession("s1")
		mustWait(t, b, ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`)), "after EndSession")
	})
}

func TestAlwaysGrantPersistsAndRevokes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state", "grants.json")
		b := newBroker(t, Options{GrantsPath: path})
		ctx := context.Background()
		ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
		decide(t, b, onlyPending(t, b), apitype.Allow, apitype.Always)
		if r := mustAnswer(t, ch); r.d.Scope != apitype.Always {
			t.Fatalf("Ask = %+v", r.d)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("grants file: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("grants file mode %v, want 0600", fi.Mode().Perm())
		}
		if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
			t.Errorf("grants dir mode %v, want 0700", di.Mode().Perm())
		}
		// Any session, any arguments.
		if r := mustAnswer(t, ask(ctx, b, call("s9", "delete_file", `{"path":"zzz"}`))); r.d.DecidedBy != "grant" || r.d.Scope != apitype.Always {
			t.Errorf("other session: %+v, want allow by the always grant", r.d)
		}

		b2 := newBroker(t, Options{GrantsPath: path})
		gs := b2.Grants()
		if len(gs) != 1 || gs[0].Scope != apitype.Always {
			t.Fatalf("reopened Grants = %+v", gs)
		}
		if r := mustAnswer(t, ask(ctx, b2, call("s3", "delete_file", ""))); r.d.DecidedBy != "grant" {
			t.Errorf("reopened broker: %+v, want allow by grant", r.d)
		}

		if err := b2.Revoke(gs[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := b2.Revoke(gs[0].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second Revoke = %v, want ErrNotFound", err)
		}
		mustWait(t, b2, ask(ctx, b2, call("s3", "delete_file", "")), "after Revoke")
		b3 := newBroker(t, Options{GrantsPath: path})
		if gs := b3.Grants(); len(gs) != 0 {
			t.Errorf("revoked grant came back after reopening: %+v", gs)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("grants file mode after rewrite %v, want 0600", fi.Mode().Perm())
		}
	})
}

func TestDenyCreatesNoGrant(t *testing.T) {
	for _, s := range []apitype.Scope{"", apitype.Once, apitype.Session, apitype.Always} {
		t.Run(string(s)+"_", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "grants.json")
				b := newBroker(t, Options{GrantsPath: path})
				ctx := context.Background()
				ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
				decide(t, b, onlyPending(t, b), apitype.Deny, s)
				r := mustAnswer(t, ch)
				if r.d.Outcome != apitype.Deny || r.d.Scope != apitype.Once || r.d.DecidedBy != "user" {
					t.Errorf("Ask = %+v, want deny once by user", r.d)
				}
				if gs := b.Grants(); len(gs) != 0 {
					t.Errorf("deny created grants %+v", gs)
				}
				if _, err := os.Stat(path); err == nil {
					t.Error("deny wrote a grants file")
				}
				mustWait(t, b, ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`)), "after deny")
			})
		})
	}
}

func TestTimeoutDeniesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		events := b.Watch(ctx)
		<-events // snapshot
		start := time.Now()
		ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
		id := onlyPending(t, b)
		time.Sleep(DefaultTimeout) // fake time
		r := mustAnswer(t, ch)
		if got := time.Since(start); got != DefaultTimeout {
			t.Errorf("timed out after %v, want %v", got, DefaultTimeout)
		}
		if r.err != nil || r.d.Outcome != apitype.Deny || r.d.DecidedBy != "timeout" || r.d.Scope != apitype.Once {
			t.Fatalf("Ask = %+v, %v; want deny once by timeout", r.d, r.err)
		}
		if gs := b.Grants(); len(gs) != 0 {
			t.Errorf("timeout created grants %+v", gs)
		}
		if p := b.Pending(); len(p) != 0 {
			t.Errorf("Pending after timeout = %+v", p)
		}
		if e := <-events; e.Type != "pending" {
			t.Errorf("event %+v, want pending", e)
		}
		if e := <-events; e.Type != "decided" || e.ID != id || e.Decision == nil || e.Decision.DecidedBy != "timeout" {
			t.Errorf("event %+v, want decided by timeout", e)
		}
		// The identical call asks again: the timeout left no rule behind.
		mustWait(t, b, ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`)), "after timeout")
		// A late deny is accepted and changes nothing.
		if err := b.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Deny, Channel: apitype.ChannelApp}); err != nil {
			t.Errorf("late deny: %v", err)
		}
		if gs := b.Grants(); len(gs) != 0 {
			t.Errorf("late deny created grants %+v", gs)
		}
	})
}

func TestLateApprovalGrantsIdenticalCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{Timeout: 10 * time.Second})
		ctx := context.Background()
		req := call("s1", "delete_file", `{"path":"a"}`)
		ch := ask(ctx, b, req)
		id := onlyPending(t, b)
		time.Sleep(10 * time.Second)
		if r := mustAnswer(t, ch); r.d.DecidedBy != "timeout" {
			t.Fatalf("Ask = %+v, want timeout", r.d)
		}
		time.Sleep(time.Minute) // the person answers a minute late
		approved := time.Now()
		decide(t, b, id, apitype.Allow, apitype.Once)
		gs := b.Grants()
		if len(gs) != 1 || gs[0].ArgsHash != req.ArgsHash || gs[0].Tool != "delete_file" || !gs[0].Expires.Equal(approved.Add(LateGrantWindow)) {
			t.Fatalf("Grants = %+v, want one for the identical call expiring at %v", gs, approved.Add(LateGrantWindow))
		}
		// The agent's retry of the identical call passes, from any session.
		r := mustAnswer(t, ask(ctx, b, req))
		if r.d.Outcome != apitype.Allow || r.d.DecidedBy != "grant" {
			t.Errorf("retry: %+v, want allow by grant", r.d)
		}
		// Same keys in another order hash alike.
		same := call("s2", "delete_file", `{ "path" : "a" }`)
		if r := mustAnswer(t, ask(ctx, b, same)); r.d.DecidedBy != "grant" {
			t.Errorf("identical call from another session: %+v", r.d)
		}
		mustWait(t, b, ask(ctx, b, call("s1", "delete_file", `{"path":"b"}`)), "other arguments")
		mustWait(t, b, ask(ctx, b, call("s1", "delete_repo", `{"path":"a"}`)), "other tool")

		time.Sleep(LateGrantWindow)
		if gs := b.Grants(); len(gs) != 0 {
			t.Errorf("Grants after the window = %+v", gs)
		}
		mustWait(t, b, ask(ctx, b, req), "after the late-grant window")
		// A second approval of the same expired request does nothing.
		err := b.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Allow, Channel: apitype.ChannelApp})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("second late approval = %v, want ErrNotFound", err)
		}
	})
}

func TestLateApprovalAfterWindowIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{Timeout: time.Second})
		ch := ask(context.Background(), b, call("s1", "delete_file", `{"path":"a"}`))
		id := onlyPending(t, b)
		time.Sleep(time.Second)
		mustAnswer(t, ch)
		time.Sleep(LateGrantWindow + time.Second)
		err := b.Decide(context.Background(), apitype.DecideRequest{ID: id, Outcome: apitype.Allow, Channel: apitype.ChannelApp})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("approval after the window = %v, want ErrNotFound", err)
		}
		if gs := b.Grants(); len(gs) != 0 {
			t.Errorf("Grants = %+v", gs)
		}
	})
}

// A tool call without arguments has an empty ArgsHash; its late approval must still
// allow the identical retry.
func TestLateApprovalWithoutArguments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{Timeout: time.Second})
		req := call("s1", "drop_all_tables", "")
		ch := ask(context.Background(), b, req)
		id := onlyPending(t, b)
		time.Sleep(time.Second)
		mustAnswer(t, ch)
		decide(t, b, id, apitype.Allow, apitype.Once)
		ch = ask(context.Background(), b, req)
		synctest.Wait()
		if r, ok := answered(ch); !ok || r.d.DecidedBy != "grant" {
			t.Errorf("retry after late approval: answered %v with %+v, want allow by grant at once", ok, r.d)
			if !ok {
				mustWait(t, b, ch, "clean up")
			}
		}
	})
}

func TestWithdrawOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{})
		wctx, wcancel := context.WithCancel(context.Background())
		defer wcancel()
		events := b.Watch(wctx)
		<-events
		ctx, cancel := context.WithCancel(context.Background())
		ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
		id := onlyPending(t, b)
		cancel()
		r := mustAnswer(t, ch)
		if !errors.Is(r.err, context.Canceled) || r.d.Outcome != apitype.Deny {
			t.Errorf("Ask = %+v, %v; want deny and context.Canceled", r.d, r.err)
		}
		if p := b.Pending(); len(p) != 0 {
			t.Errorf("Pending after withdrawal = %+v", p)
		}
		<-events // pending
		if e := <-events; e.Type != "withdrawn" || e.ID != id {
			t.Errorf("event %+v, want withdrawn %s", e, id)
		}
		if err := b.Decide(context.Background(), apitype.DecideRequest{ID: id, Outcome: apitype.Allow, Channel: apitype.ChannelApp}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Decide on a withdrawn request = %v, want ErrNotFound", err)
		}
		if gs := b.Grants(); len(gs) != 0 {
			t.Errorf("Grants = %+v", gs)
		}
	})
}

// concurrentDecide races two decisions on one pending request and returns their errors
// and what the asker saw.
func concurrentDecide(t *testing.T, a, c apitype.DecideRequest) (errA, errC error, got apitype.Decision) {
	b := newBroker(t, Options{})
	ch := ask(context.Background(), b, call("s1", "delete_file", `{"path":"a"}`))
	id := onlyPending(t, b)
	a.ID, c.ID = id, id
	var wg sync.WaitGroup
	wg.Go(func() { errA = b.Decide(context.Background(), a) })
	wg.Go(func() { errC = b.Decide(context.Background(), c) })
	wg.Wait()
	return errA, errC, mustAnswer(t, ch).d
}

func TestConcurrentDecideOneWins(t *testing.T) {
	allow := apitype.DecideRequest{Outcome: apitype.Allow, Scope: apitype.Session, Channel: apitype.ChannelApp, Reason: "A"}
	deny := apitype.DecideRequest{Outcome: apitype.Deny, Channel: apitype.ChannelApp, Reason: "D"}
	for i := range 50 {
		synctest.Test(t, func(t *testing.T) {
			errA, errD, got := concurrentDecide(t, allow, deny)
			if (errA == nil) == (errD == nil) {
				t.Fatalf("run %d: allow err %v, deny err %v; want exactly one to succeed", i, errA, errD)
			}
			winner := apitype.Allow
			if errD == nil {
				winner = apitype.Deny
			}
			if got.Outcome != winner {
				t.Errorf("run %d: the %s won but the asker saw %+v", i, winner, got)
			}
		})
	}
}

func TestConcurrentDecideLoserGetsAlreadyDecided(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := apitype.DecideRequest{Outcome: apitype.Allow, Channel: apitype.ChannelApp}
		errA, errB, _ := concurrentDecide(t, d, d)
		if errA != nil {
			errA, errB = errB, errA
		}
		if errA != nil || !errors.Is(errB, ErrAlreadyDecided) {
			t.Errorf("errors %v, %v; want nil and ErrAlreadyDecided", errA, errB)
		}
	})
}

func TestDecideValidation(t *testing.T) {
	tests := []struct {
		name string
		cli  bool
		d    apitype.DecideRequest
		want error
	}{
		{"cli disabled", false, apitype.DecideRequest{Outcome: apitype.Allow, Channel: apitype.ChannelCLI}, ErrCLIDisabled},
		{"cli disabled deny", false, apitype.DecideRequest{Outcome: apitype.Deny, Channel: apitype.ChannelCLI}, ErrCLIDisabled},
		{"cli enabled", true, apitype.DecideRequest{Outcome: apitype.Allow, Channel: apitype.ChannelCLI}, nil},
		{"unknown outcome", true, apitype.DecideRequest{Outcome: "maybe", Channel: apitype.ChannelApp}, ErrInvalidDecision},
		{"empty outcome", true, apitype.DecideRequest{Channel: apitype.ChannelApp}, ErrInvalidDecision},
		{"unknown scope", true, apitype.DecideRequest{Outcome: apitype.Allow, Scope: "forever", Channel: apitype.ChannelApp}, ErrInvalidDecision},
		{"unknown channel", true, apitype.DecideRequest{Outcome: apitype.Allow, Channel: "email"}, ErrInvalidDecision},
		{"empty channel", true, apitype.DecideRequest{Outcome: apitype.Allow}, ErrInvalidDecision},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBroker(t, Options{CLIApprovals: tc.cli})
				ch := ask(context.Background(), b, call("s1", "delete_file", `{"path":"a"}`))
				tc.d.ID = onlyPending(t, b)
				err := b.Decide(context.Background(), tc.d)
				if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
					t.Fatalf("Decide = %v, want %v", err, tc.want)
				}
				if tc.want == nil {
					mustAnswer(t, ch)
					return
				}
				if len(b.Pending()) != 1 {
					t.Error("a rejected decision removed the request")
				}
				mustWait(t, b, ch, "after a rejected decision")
			})
		})
	}
	if err := newBroker(t, Options{}).Decide(context.Background(), apitype.DecideRequest{ID: "nope", Outcome: apitype.Allow, Channel: apitype.ChannelApp}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Decide on an unknown id = %v, want ErrNotFound", err)
	}
}

func TestWatchOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		first := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
		id1 := onlyPending(t, b)
		events := b.Watch(ctx)
		snap := <-events
		if snap.Type != "snapshot" || len(snap.Pending) != 1 || snap.Pending[0].ID != id1 {
			t.Fatalf("first event %+v, want a snapshot listing %s", snap, id1)
		}
		decide(t, b, id1, apitype.Allow, apitype.Session)
		mustAnswer(t, first)
		ch := ask(ctx, b, call("s1", "delete_repo", `{"r":"x"}`))
		id2 := onlyPending(t, b)
		decide(t, b, id2, apitype.Deny, "")
		mustAnswer(t, ch)
		var got []string
		var last time.Time
		for range 4 {
			e := <-events
			s := e.Type + " " + e.ID
			if e.Decision != nil {
				s += " " + string(e.Decision.Outcome)
			}
			if e.Type == "grants" {
				s += " " + string(e.Grants[0].Scope)
			}
			if e.Time.Before(last) {
				t.Errorf("event %s goes back in time", s)
			}
			last = e.Time
			got = append(got, s)
		}
		want := []string{"decided " + id1 + " allow", "grants  session", "pending " + id2, "decided " + id2 + " deny"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		cancel()
		synctest.Wait()
		if _, ok := <-events; ok {
			t.Error("watch channel still open after ctx ended")
		}
	})
}

// When the "always" grant cannot be saved, the call is allowed once; every watcher must
// see that same decision.
func TestWatchSeesFinalDecisionWhenGrantSaveFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sub := filepath.Join(t.TempDir(), "sub")
		b := newBroker(t, Options{GrantsPath: filepath.Join(sub, "grants.json")})
		os.WriteFile(sub, nil, 0o600) // the grants directory is now a file: saving fails
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		seen := make(chan apitype.Decision, 1)
		events := b.Watch(ctx)
		go func() {
			for e := range events {
				if e.Type == "decided" {
					seen <- *e.Decision
				}
			}
		}()
		ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
		decide(t, b, onlyPending(t, b), apitype.Allow, apitype.Always)
		r := mustAnswer(t, ch)
		if r.d.Scope != apitype.Once || !strings.Contains(r.d.Reason, "could not save") {
			t.Errorf("Ask = %+v, want allow once with a note that the grant was not saved", r.d)
		}
		if diff := cmp.Diff(r.d, <-seen); diff != "" {
			t.Errorf("watched decision differs from the asker's (-asker +watch):\n%s", diff)
		}
	})
}

func TestEveryDecisionLoggedOnceAndRedacted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		lg, err := store.Open(filepath.Join(dir, "log", "decisions.db"))
		if err != nil {
			t.Fatal(err)
		}
		b := newBroker(t, Options{Log: lg, CLIApprovals: true, GrantsPath: filepath.Join(dir, "grants.json")})
		ctx := context.Background()
		args := `{"token":"` + ghToken + `","note":"x ` + ghToken + `"}`

		// user allow (session) → then a grant
		ch := ask(ctx, b, call("s1", "delete_file", args))
		decide(t, b, onlyPending(t, b), apitype.Allow, apitype.Session)
		mustAnswer(t, ch)
		mustAnswer(t, ask(ctx, b, call("s1", "delete_file", args)))
		// user deny from the CLI
		ch = ask(ctx, b, call("s1", "merge_pr", args))
		id := onlyPending(t, b)
		if err := b.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Deny, Channel: apitype.ChannelCLI}); err != nil {
			t.Fatal(err)
		}
		mustAnswer(t, ch)
		// timeout, then a late approval
		ch = ask(ctx, b, call("s1", "push", args))
		id = onlyPending(t, b)
		time.Sleep(DefaultTimeout)
		mustAnswer(t, ch)
		decide(t, b, id, apitype.Allow, apitype.Once)
		// withdrawn
		cctx, cancel := context.WithCancel(ctx)
		ch = ask(cctx, b, call("s1", "force_push", args))
		onlyPending(t, b)
		cancel()
		mustAnswer(t, ch)

		rows, err := lg.Query(ctx, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
		var got []string
		for _, r := range rows {
			got = append(got, strings.Join([]string{r.Tool, string(r.Outcome), string(r.DecidedBy), string(r.Channel), string(r.Scope)}, " "))
			if strings.Contains(r.Args, ghToken) || !strings.Contains(r.Args, "[REDACTED") {
				t.Errorf("row %d args not redacted: %s", r.ID, r.Args)
			}
			if r.Kind != store.KindToolCall || r.Server != "github" || r.Session != "s1" || r.Tier != 3 || r.ArgsHash != store.HashArgs(json.RawMessage(args)) {
				t.Errorf("row %d subject = %+v", r.ID, r)
			}
		}
		want := []string{
			"delete_file allow user app session",
			"delete_file allow grant none session",
			"merge_pr deny user cli once",
			"push deny timeout none once",
			"push allow user app once",
			"force_push deny fallback none once",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("logged decisions (-want +got):\n%s", diff)
		}
		if err := lg.Close(); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "log", "*"))
		files = append(files, filepath.Join(dir, "grants.json"))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			if strings.Contains(string(data), ghToken) {
				t.Errorf("%s contains the token", filepath.Base(f))
			}
		}
	})
}

// A call marked Protected (it names Airlock's own files) or Dangerous (its arguments are:
// rm -rf, DROP TABLE, ...) is not covered by a session or always grant for its tool: a
// person decides it.
func TestToolGrantsDoNotCoverProtectedOrDangerousCalls(t *testing.T) {
	for _, tc := range []struct {
		name, tool, ordinary, args string
		mark                       func(*apitype.AskRequest)
	}{
		{"protected", "write_file", `{"path":"a"}`, `{"path":"~/.config/airlock/policy.toml"}`, func(r *apitype.AskRequest) { r.Protected = true }},
		{"dangerous", "run_command", `{"command":"ls"}`, `{"command":"rm -rf ~"}`, func(r *apitype.AskRequest) { r.Dangerous = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBroker(t, Options{})
				ctx := context.Background()
				ch := ask(ctx, b, call("s1", tc.tool, tc.ordinary))
				decide(t, b, onlyPending(t, b), apitype.Allow, apitype.Session)
				mustAnswer(t, ch)
				ch = ask(ctx, b, call("s2", tc.tool, tc.ordinary))
				decide(t, b, onlyPending(t, b), apitype.Allow, apitype.Always)
				mustAnswer(t, ch)
				if r := mustAnswer(t, ask(ctx, b, call("s1", tc.tool, `{"other":1}`))); r.d.DecidedBy != "grant" {
					t.Fatalf("ordinary call: %+v, want allow by grant", r.d)
				}
				req := call("s1", tc.tool, tc.args)
				tc.mark(&req)
				mustWait(t, b, ask(ctx, b, req), tc.name+" call despite tool grants")
			})
		})
	}
}

// Turning terminal approvals off in policy.toml takes effect in a running broker: a
// pending request can no longer be approved from the command line.
func TestFollowPolicyTurnsCLIApprovalsOff(t *testing.T) {
	old := policy.CheckEvery
	policy.CheckEvery = 10 * time.Millisecond
	defer func() { policy.CheckEvery = old }()
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte("[settings]\ncli_approvals = true\napproval_timeout = \"30s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := newBroker(t, Options{Timeout: 30 * time.Second, CLIApprovals: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.FollowPolicy(ctx, path, nil)

	ch := ask(ctx, b, call("s1", "delete_file", `{"path":"a"}`))
	var id string
	for deadline := time.Now().Add(10 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ps := b.Pending(); len(ps) == 1 {
			id = ps[0].ID
		}
	}
	mod := time.Now().Add(time.Minute)
	if err := os.WriteFile(path, []byte("[settings]\ncli_approvals = false\napproval_timeout = \"30s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, mod, mod)
	for deadline := time.Now().Add(10 * time.Second); b.CLIApprovals() && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
	}
	if err := b.Decide(ctx, apitype.DecideRequest{ID: id, Outcome: apitype.Allow, Channel: apitype.ChannelCLI}); !errors.Is(err, ErrCLIDisabled) {
		t.Fatalf("terminal approval after the setting was turned off: %v, want ErrCLIDisabled", err)
	}
	decide(t, b, id, apitype.Deny, apitype.Once)
	<-ch
}
