package ingress

import (
	"fmt"
	"testing"
	"time"

	"github.com/airlock-mcp/airlock/proxy/jsonrpc"
)

// The cancellations kept for requests not seen yet stay bounded: expired ones go, and past
// earlyCancelMax the oldest goes, so a client cannot grow the map without limit.
func TestEarlyCancelsStayBounded(t *testing.T) {
	c := newConn(false)
	cancel := func(id int) *jsonrpc.Message {
		m, err := jsonrpc.NewNotification("notifications/cancelled", map[string]any{"requestId": id})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for i := 0; i < 3*earlyCancelMax; i++ {
		if _, ok := c.accept(cancel(i), nil, nil); !ok {
			t.Fatal("accept refused a notification")
		}
	}
	if n := len(c.early); n != earlyCancelMax {
		t.Fatalf("%d cancellations kept, want at most %d", n, earlyCancelMax)
	}
	newest := fmt.Sprint(3*earlyCancelMax - 1)
	if _, ok := c.early[newest]; !ok {
		t.Errorf("the newest cancellation (%s) was dropped instead of the oldest", newest)
	}
	if _, ok := c.early["0"]; ok {
		t.Error("the oldest cancellation was kept past the limit")
	}

	// Expired ones are dropped at the next remember, and an expired one no longer
	// withdraws a request that finally comes.
	for k, e := range c.early {
		e.at = e.at.Add(-earlyCancelTTL)
		c.early[k] = e
	}
	c.accept(cancel(-1), nil, nil)
	if len(c.early) != 1 {
		t.Errorf("%d cancellations kept after the others expired, want 1", len(c.early))
	}
	c.early["7"] = earlyCancel{at: time.Now().Add(-earlyCancelTTL), m: cancel(7)}
	req, err := jsonrpc.NewRequest(jsonrpc.IntID(7), "tools/call", map[string]any{"name": "x"})
	if err != nil {
		t.Fatal(err)
	}
	st := newStream("", false)
	if _, ok := c.accept(req, st, nil); !ok || st.cancelAfter != nil {
		t.Errorf("an expired cancellation still withdrew request 7 (ok %v)", ok)
	}
}
