// Package browser opens a web address in the person's browser with the system's opener
// (xdg-open, open or rundll32), without a shell. Only http and https addresses are opened.
package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// failWait is how long Open waits for the opener to fail; one still running after that
// is taken to have worked.
var failWait = 5 * time.Second

// Open opens rawURL, an http or https address. The opener's stdio stays on the null
// device: a proxy's own stdio carries MCP.
func Open(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) {
		return errors.New("open browser: refusing an address that is not http or https")
	}
	if strings.HasPrefix(rawURL, "-") {
		return errors.New("open browser: refusing an address that starts with '-'")
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", rawURL)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", rawURL)
	default:
		cmd = exec.Command("xdg-open", rawURL)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open browser: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(failWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("open browser: %s: %w", cmd.Args[0], err)
		}
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}
