// Command echoserver is the MCP server the benchmark talks to: one tool, "echo", that
// returns its "text" argument as a text content block. It speaks MCP on stdio using the
// official Go SDK, like a typical real server.
package main

import (
	"context"
	"log"
	"os"
	"runtime/pprof"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text string `json:"text" jsonschema:"the text to return"`
}

func main() {
	server := mcp.NewServer(&mcp.Implementation{Name: "bench-echo", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "echo", Description: "Returns its argument."},
		func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	if path := os.Getenv("BENCH_ECHO_CPUPROFILE"); path != "" { // for studying the benchmark itself
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := server.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Print(err)
	}
}
