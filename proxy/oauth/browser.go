package oauth

import (
	"context"

	sysbrowser "github.com/airlock-mcp/airlock/proxy/browser"
)

// OpenBrowser opens rawURL, an http or https URL, with the system's opener.
func OpenBrowser(rawURL string) error { return sysbrowser.Open(context.Background(), rawURL) }
