package policy

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions records the line of each key in a policy file, so that validation errors
// can name it. It is best effort: a form it does not follow yields line 0.
type positions struct {
	keys   map[string]int         // dotted path of a key in an ordinary table → line
	arrays map[string][]*entryPos // array-of-tables name → entries in order
}

type entryPos struct {
	header int
	keys   map[string]int
}

func (e *entryPos) line(key string) int {
	if e == nil {
		return 0
	}
	if l, ok := e.keys[key]; ok {
		return l
	}
	return e.header
}

func positionsOf(data []byte) *positions {
	pos := &positions{keys: map[string]int{}, arrays: map[string][]*entryPos{}}
	var p unstable.Parser
	p.Reset(data)
	var (
		table []string
		entry *entryPos
	)
	keyOf := func(n *unstable.Node) []string {
		var parts []string
		it := n.Key()
		for it.Next() {
			parts = append(parts, string(it.Node().Data))
		}
		return parts
	}
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table:
			table, entry = keyOf(n), nil
			pos.keys[strings.Join(table, ".")] = lineOfKey(&p, n)
		case unstable.ArrayTable:
			table = keyOf(n)
			name := strings.Join(table, ".")
			entry = &entryPos{header: lineOfKey(&p, n), keys: map[string]int{}}
			pos.arrays[name] = append(pos.arrays[name], entry)
		case unstable.KeyValue:
			k := keyOf(n)
			line := lineOfKey(&p, n)
			if entry != nil {
				entry.keys[strings.Join(k, ".")] = line
			} else {
				pos.keys[strings.Join(append(append([]string(nil), table...), k...), ".")] = line
			}
		}
	}
	return pos
}

// lineOfKey returns the line of the first key part of n.
func lineOfKey(p *unstable.Parser, n *unstable.Node) int {
	it := n.Key()
	if it.Next() {
		return p.Shape(it.Node().Raw).Start.Line
	}
	return 0
}

// key returns the line of key in table, or of the table header, or 0.
func (pos *positions) key(table, key string) int {
	if l, ok := pos.keys[table+"."+key]; ok {
		return l
	}
	return pos.keys[table]
}

// arrayEntry returns the positions of the i-th (0-based) entry of an array of tables.
func (pos *positions) arrayEntry(name string, i int) *entryPos {
	if es := pos.arrays[name]; i < len(es) {
		return es[i]
	}
	return nil
}

// context names the rule, launch entry, server or section that holds an unknown key found
// at line, as a message prefix such as "rule 3: ".
func (pos *positions) context(key []string, line int) string {
	if len(key) < 2 {
		return ""
	}
	switch key[0] {
	case "rules", "launch":
		idx := 0
		for i, e := range pos.arrays[key[0]] {
			if e.header <= line {
				idx = i + 1
			}
		}
		if idx == 0 {
			return ""
		}
		if key[0] == "rules" {
			return fmt.Sprintf("rule %d: ", idx)
		}
		return fmt.Sprintf("launch %d: ", idx)
	case "settings":
		return "settings: "
	case "servers":
		if len(key) > 2 {
			return fmt.Sprintf("server %q: ", key[1])
		}
	}
	return ""
}
