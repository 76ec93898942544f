package risk

import (
	"regexp"
	"strings"
)

type sqlWord struct {
	w     string // upper case
	depth int    // parenthesis depth
}

// sqlStmt is one statement: its words, whether any came from a dollar-quoted body
// ($$ … $$ or $tag$ … $tag$: the code of a PostgreSQL DO block or function, which runs
// whatever its first word), and the contents of its single-quoted literals.
type sqlStmt struct {
	words []sqlWord
	body  bool
	lits  []string
}

// sqlStatements strips string literals, quoted identifiers and comments from s and
// returns the words of each statement, split on semicolons outside literals. The
// contents of a dollar-quoted body are read as SQL (its semicolons split statements
// too); single-quoted literals are kept aside for dynamic SQL (see classifySQL).
func sqlStatements(s string) []sqlStmt {
	var (
		stmts []sqlStmt
		cur   sqlStmt
		depth int
		tag   string // the open dollar quote, "" outside one
	)
	flush := func() {
		if len(cur.words) > 0 {
			stmts = append(stmts, cur)
		}
		cur, depth = sqlStmt{body: tag != ""}, 0
	}
	// end is where the open dollar-quoted body closes (len(s) outside one): nothing in
	// a body (a quote, a comment) reaches past it, as PostgreSQL reads "$$it's$$".
	end := len(s)
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			var lit strings.Builder
			for j < end {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote escapes itself
						lit.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				if s[j] == '\\' && c == '\'' && j+1 < end {
					lit.WriteByte(s[j+1])
					j += 2
					continue
				}
				lit.WriteByte(s[j])
				j++
			}
			// Double quotes name an identifier in standard SQL but hold a string in MySQL
			// (PREPARE s FROM "…"): kept too, they are only read when the text runs
			// dynamic SQL.
			if c != '`' && lit.Len() > 0 {
				cur.lits = append(cur.lits, lit.String())
			}
			i = min(j+1, end)
		case c == '$' && tag != "":
			// In a body only its closing quote counts, and everything stops at it.
			if i == end {
				i += len(tag)
				tag, end = "", len(s)
			} else {
				i++
			}
		case c == '$':
			if tag = dollarTag(s[i:]); tag == "" {
				i++
				continue
			}
			cur.body = true
			i += len(tag)
			end = len(s)
			if k := strings.Index(s[i:], tag); k >= 0 {
				end = i + k
			}
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < end && s[i] != '\n' && s[i] != '\r' { // PostgreSQL ends it at either
				i++
			}
		case c == '/' && i+2 < len(s) && s[i+1] == '*' && s[i+2] == '!':
			// MySQL runs what is inside /*! … */ (an optional version number first): read
			// it as SQL; the closing */ is skipped like any punctuation.
			i += 3
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if k := strings.Index(s[i+2:end], "*/"); k < 0 {
				i = end
			} else {
				i += k + 4
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			depth = max(depth-1, 0)
			i++
		case c == ';':
			flush()
			i++
		case isWordByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(s) && (isWordByte(s[j])) {
				j++
			}
			cur.words = append(cur.words, sqlWord{strings.ToUpper(s[i:j]), depth})
			if tag != "" {
				cur.body = true
			}
			i = j
		default:
			i++
		}
	}
	flush()
	return stmts
}

// dollarTag returns the dollar quote ($$ or $tag$) s starts with, or "".
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
		case c >= '0' && c <= '9' && j > 1: // $1 is a parameter, not a quote
		default:
			return ""
		}
	}
	return ""
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// sqlHint gates classifySQL; its regexp matches everything.
var sqlHint = pattern{hints: hints(`drop truncate alter grant revoke delete update insert replace merge upsert create copy exec prepare xp_cmdshell sys_e load_extension outfile dumpfile pg_read lo_import lo_export load_file pg_ls_dir pg_terminate pg_cancel pg_promote pg_drop lo_unlink dblink_exec`), re: regexp.MustCompile(``)}

var sqlStarts = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true,
	"DELETE": true, "DROP": true, "TRUNCATE": true, "ALTER": true, "GRANT": true,
	"REVOKE": true, "CREATE": true, "WITH": true, "REPLACE": true, "MERGE": true,
	"UPSERT": true, "COPY": true, "EXPLAIN": true, "BEGIN": true,
	"DO": true, "EXEC": true, "EXECUTE": true, "PREPARE": true, "CALL": true}

// dynamicWords run SQL built from strings: PREPARE … FROM '…', EXECUTE '…',
// EXEC('…'), EXECUTE IMMEDIATE '…', sp_executesql N'…'.
var dynamicWords = map[string]bool{"EXEC": true, "EXECUTE": true, "PREPARE": true, "SP_EXECUTESQL": true}

// sqlFunctions are calls that reach past the database: shell commands, native code,
// files on the database server.
var sqlFunctions = map[string]struct {
	kind string
	t    Tier
	what string
}{
	"XP_CMDSHELL":              {"sql:program", Destructive, "runs a shell command through SQL (xp_cmdshell)"},
	"SYS_EXEC":                 {"sql:program", Destructive, "runs a shell command through SQL (sys_exec)"},
	"SYS_EVAL":                 {"sql:program", Destructive, "runs a shell command through SQL (sys_eval)"},
	"LOAD_EXTENSION":           {"sql:program", Destructive, "loads native code into the database (load_extension)"},
	"OUTFILE":                  {"sql:file", Write, "writes a file on the database server (INTO OUTFILE)"},
	"DUMPFILE":                 {"sql:file", Write, "writes a file on the database server (INTO DUMPFILE)"},
	"LO_EXPORT":                {"sql:file", Write, "writes a file on the database server (lo_export)"},
	"PG_READ_FILE":             {"sql:file", SensitiveRead, "reads a file on the database server (pg_read_file)"},
	"PG_READ_BINARY_FILE":      {"sql:file", SensitiveRead, "reads a file on the database server (pg_read_binary_file)"},
	"LO_IMPORT":                {"sql:file", SensitiveRead, "reads a file on the database server (lo_import)"},
	"LOAD_FILE":                {"sql:file", SensitiveRead, "reads a file on the database server (LOAD_FILE)"},
	"PG_LS_DIR":                {"sql:file", SensitiveRead, "lists a directory on the database server (pg_ls_dir)"},
	"PG_TERMINATE_BACKEND":     {"sql:admin", Destructive, "ends other database sessions (pg_terminate_backend)"},
	"PG_CANCEL_BACKEND":        {"sql:admin", Write, "cancels other sessions' queries (pg_cancel_backend)"},
	"PG_PROMOTE":               {"sql:admin", Destructive, "promotes a standby database server (pg_promote)"},
	"PG_DROP_REPLICATION_SLOT": {"sql:admin", Destructive, "drops a replication slot (pg_drop_replication_slot)"},
	"LO_UNLINK":                {"sql:admin", Destructive, "deletes a large object (lo_unlink)"},
	"DBLINK_EXEC":              {"sql:program", Destructive, "runs SQL on another database (dblink_exec)"},
}

var dropObjects = map[string]bool{"TABLE": true, "DATABASE": true, "SCHEMA": true,
	"INDEX": true, "VIEW": true, "USER": true, "ROLE": true, "COLUMN": true,
	"CONSTRAINT": true, "TRIGGER": true, "FUNCTION": true, "PROCEDURE": true,
	"SEQUENCE": true, "TYPE": true, "EXTENSION": true, "IF": true, "OWNED": true,
	"POLICY": true, "MATERIALIZED": true, "TEMPORARY": true, "TEMP": true}

var alterObjects = map[string]bool{"TABLE": true, "DATABASE": true, "SCHEMA": true,
	"USER": true, "ROLE": true, "SYSTEM": true, "INDEX": true, "VIEW": true,
	"SEQUENCE": true, "FUNCTION": true, "DEFAULT": true, "POLICY": true, "TYPE": true}

// maxSQLNesting bounds how deep classifySQL reads SQL inside the literals of dynamic SQL.
const maxSQLNesting = 3

// classifySQL reports the most dangerous SQL in s, if s looks like SQL at all
// (each statement must start with an SQL keyword, or come from a dollar-quoted body).
// kind names the finding. When s runs dynamic SQL and has string literals, their
// contents are read as SQL too, and it is at least a write, since what it runs (a
// literal built up with concatenation, say) cannot be seen in full.
func classifySQL(tx *text) (kind string, t Tier, what string) {
	if !sqlHint.match(tx) {
		return "", SafeRead, ""
	}
	return classifySQLText(tx.v, false, 0)
}

func classifySQLText(s string, code bool, nesting int) (kind string, t Tier, what string) {
	set := func(k string, tt Tier, w string) {
		if tt > t {
			kind, t, what = k, tt, w
		}
	}
	stmts := sqlStatements(s)
	dynamic := false
	for _, st := range stmts {
		if !code && !st.body && !sqlStarts[st.words[0].w] {
			continue
		}
		set(classifyStatement(st.words))
		for _, w := range st.words {
			dynamic = dynamic || dynamicWords[w.w]
		}
	}
	// Dynamic SQL with no literal at all (EXECUTE of a prepared statement, or prose that
	// starts with "Execute") shows nothing more to read.
	lits := false
	for _, st := range stmts {
		lits = lits || len(st.lits) > 0
	}
	if !dynamic || !lits {
		return kind, t, what
	}
	set("sql:dynamic", Write, "runs dynamic or prepared SQL, whose text Airlock cannot see in full")
	if nesting >= maxSQLNesting {
		return kind, t, what
	}
	for _, st := range stmts {
		for _, lit := range st.lits {
			set(classifySQLText(lit, true, nesting+1))
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
		if f, ok := sqlFunctions[w.w]; ok && (w.w != "OUTFILE" && w.w != "DUMPFILE" || i > 0 && st[i-1].w == "INTO") {
			set(f.kind, f.t, f.what)
		}
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
			// DELETE FROM t, or DELETE t (SQL Server, Oracle) as a statement of its own.
			if next(i) == "FROM" || i == 0 && len(st) >= 2 && (len(st) == 2 || st[2].w == "WHERE") {
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
			if w.w == "MERGE" {
				// WHEN MATCHED THEN DELETE removes every row the ON clause matches (ON 1=1: all).
				for j := i + 1; j+1 < len(st); j++ {
					if st[j].w == "THEN" && st[j+1].w == "DELETE" {
						set("sql:nowhere", Destructive, "deletes rows with SQL MERGE … THEN DELETE")
						break
					}
				}
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
