// Package launch describes a stdio MCP server's launch command for a person to approve:
// it finds the risky parts of the command, fingerprints what was approved, and says what
// changed since.
package launch
