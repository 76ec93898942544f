package risk

import (
	"regexp"
	"strings"
)

type sqlWord struct {
	w     string // upper case
	depth int    // parenthesis depth
}

// sqlStatements strips string literals, quoted identifiers and comments from s and
// returns the words of each statement, split on semicolons outside literals.
func sqlStatements(s string) [][]sqlWord {
	var (
		stmts [][]sqlWord
		cur   []sqlWord
		depth int
	)
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote escapes itself
						j += 2
						continue
					}
					break
				}
				if s[j] == '\\' && c == '\'' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += end + 4
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			depth = max(depth-1, 0)
			i++
		case c == ';':
			if len(cur) > 0 {
				stmts = append(stmts, cur)
			}
			cur, depth = nil, 0
			i++
		case isWordByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(s) && (isWordByte(s[j])) {
				j++
			}
			cur = append(cur, sqlWord{strings.ToUpper(s[i:j]), depth})
			i = j
		default:
			i++
		}
	}
	if len(cur) > 0 {
		stmts = append(stmts, cur)
	}
	return stmts
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// sqlHint gates classifySQL; its regexp matches everything.
var sqlHint = pattern{hints: hints(`drop truncate alter grant revoke delete update insert replace merge upsert create copy`), re: regexp.MustCompile(``)}

var sqlStarts = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true,
	"DELETE": true, "DROP": true, "TRUNCATE": true, "ALTER": true, "GRANT": true,
	"REVOKE": true, "CREATE": true, "WITH": true, "REPLACE": true, "MERGE": true,
	"UPSERT": true, "COPY": true, "EXPLAIN": true, "BEGIN": true}

var dropObjects = map[string]bool{"TABLE": true, "DATABASE": true, "SCHEMA": true,
	"INDEX": true, "VIEW": true, "USER": true, "ROLE": true, "COLUMN": true,
	"CONSTRAINT": true, "TRIGGER": true, "FUNCTION": true, "PROCEDURE": true,
	"SEQUENCE": true, "TYPE": true, "EXTENSION": true, "IF": true, "OWNED": true,
	"POLICY": true, "MATERIALIZED": true, "TEMPORARY": true, "TEMP": true}

var alterObjects = map[string]bool{"TABLE": true, "DATABASE": true, "SCHEMA": true,
	"USER": true, "ROLE": true, "SYSTEM": true, "INDEX": true, "VIEW": true,
	"SEQUENCE": true, "FUNCTION": true, "DEFAULT": true, "POLICY": true, "TYPE": true}

// classifySQL reports the most dangerous SQL in s, if s looks like SQL at all
// (each statement must start with an SQL keyword). kind names the finding.
func classifySQL(tx *text) (kind string, t Tier, what string) {
	s := tx.v
	if !sqlHint.match(tx) {
		return "", SafeRead, ""
	}
	for _, st := range sqlStatements(s) {
		if !sqlStarts[st[0].w] {
			continue
		}
		k, tt, w := classifyStatement(st)
		if tt > t {
			kind, t, what = k, tt, w
		}
	}
	return kind, t, what
}

func classifyStatement(st []sqlWord) (kind string, t Tier, what string) {
	set := func(k string, tt Tier, w string) {
		if tt > t {
			kind, t, what = k, tt, w
		}
	}
	next := func(i int) string {
		if i+1 < len(st) {
			return st[i+1].w
		}
		return ""
	}
	// hasWhere reports whether a real WHERE follows position i at the same depth.
	hasWhere := func(i int) bool {
		d := st[i].depth
		for j := i + 1; j < len(st); j++ {
			if st[j].depth < d {
				return false
			}
			if st[j].depth == d && st[j].w == "WHERE" {
				if n := next(j); n == "TRUE" || (n == "" && j+1 >= len(st)) {
					return false
				}
				return true
			}
		}
		return false
	}
	for i, w := range st {
		switch w.w {
		case "DROP":
			if dropObjects[next(i)] {
				set("sql:drop", Destructive, "runs SQL DROP "+next(i))
			}
		case "TRUNCATE":
			if n := next(i); n == "TABLE" || n == "ONLY" || (n != "" && i+2 == len(st)) {
				set("sql:truncate", Destructive, "runs SQL TRUNCATE")
			}
		case "ALTER":
			if alterObjects[next(i)] {
				set("sql:alter", Destructive, "runs SQL ALTER "+next(i))
			}
		case "GRANT", "REVOKE":
			for _, x := range st[i+1:] {
				if x.w == "ON" || x.w == "TO" || x.w == "FROM" {
					set("sql:grant", Destructive, "changes database permissions with SQL "+w.w)
					break
				}
			}
		case "DELETE":
			if next(i) == "FROM" {
				if hasWhere(i) {
					set("sql:write", Write, "changes data with SQL DELETE … WHERE")
				} else {
					set("sql:nowhere", Destructive, "runs SQL DELETE without WHERE")
				}
			}
		case "UPDATE":
			isUpdate := false
			for _, x := range st[i+1:] {
				if x.w == "SET" {
					isUpdate = true
					break
				}
			}
			if isUpdate {
				if hasWhere(i) {
					set("sql:write", Write, "changes data with SQL UPDATE … WHERE")
				} else {
					set("sql:nowhere", Destructive, "runs SQL UPDATE without WHERE")
				}
			}
		case "INSERT", "REPLACE", "MERGE", "UPSERT":
			if next(i) == "INTO" || w.w == "UPSERT" {
				set("sql:write", Write, "changes data with SQL "+w.w)
			}
		case "CREATE":
			set("sql:write", Write, "changes the schema with SQL CREATE")
		case "COPY":
			for _, x := range st[i+1:] {
				if x.w == "PROGRAM" {
					set("sql:program", Destructive, "runs a shell command through SQL COPY … PROGRAM")
					break
				}
			}
		}
	}
	return kind, t, what
}
