// Command fakemcp is a tiny MCP server on stdio for the tests of `airlock tools`. It
// lists five tools over two tools/list pages; FAKEMCP_MODE=endless keeps offering another
// page, FAKEMCP_MODE=fail answers tools/list with an error.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

type msg struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
}

func main() {
	mode := os.Getenv("FAKEMCP_MODE")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	reply := func(id json.RawMessage, result any) {
		out.Encode(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
	}
	yes, no := true, false
	page1 := []map[string]any{
		{"name": "read_file", "description": "Read a file.", "annotations": map[string]any{"readOnlyHint": yes}},
		{"name": "delete_repo", "description": "Delete a repository.", "annotations": map[string]any{"destructiveHint": yes, "readOnlyHint": no}},
	}
	page2 := []map[string]any{
		{"name": "send_email", "description": "Send an email."},
		{"name": "drop_table", "description": "Drop a table."},
		{"name": "list\u202eitems", "description": "Lists\nitems."},
	}
	for in.Scan() {
		var m msg
		if json.Unmarshal(in.Bytes(), &m) != nil || m.Method == "" {
			continue // a response to our ping, or junk
		}
		switch m.Method {
		case "initialize":
			reply(m.ID, map[string]any{
				"protocolVersion": "2025-11-25",
				"capabilities":    map[string]any{"tools": map[string]any{}},
				"serverInfo":      map[string]any{"name": "fakemcp", "version": "1.2.3"},
			})
		case "notifications/initialized":
			// Servers may speak first; the client must cope.
			out.Encode(map[string]any{"jsonrpc": "2.0", "id": "srv-1", "method": "ping"})
			out.Encode(map[string]any{"jsonrpc": "2.0", "method": "notifications/message", "params": map[string]any{"level": "info", "data": "hello"}})
		case "tools/list":
			var p struct {
				Cursor string `json:"cursor"`
			}
			json.Unmarshal(m.Params, &p)
			switch {
			case mode == "fail":
				out.Encode(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32603, "message": "boom"}})
			case mode == "endless":
				reply(m.ID, map[string]any{"tools": []any{}, "nextCursor": fmt.Sprintf("c%s", p.Cursor)})
			case p.Cursor == "":
				reply(m.ID, map[string]any{"tools": page1, "nextCursor": "p2"})
			default:
				reply(m.ID, map[string]any{"tools": page2})
			}
		default:
			if m.ID != nil {
				out.Encode(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32601, "message": "no such method"}})
			}
		}
	}
}
