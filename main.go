// Command airlock puts a person between an AI agent and the MCP servers it can reach.
package main

import (
	"embed"
	"os"

	"github.com/airlock-mcp/airlock/app"
)

//go:embed all:frontend/dist
var assets embed.FS

func main() { os.Exit(app.Main(os.Args, assets)) }
