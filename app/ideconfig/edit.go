package ideconfig

import (
	"github.com/tailscale/hujson"
)

// memberIndex returns the index of the member called name, or -1.
func memberIndex(obj *hujson.Object, name string) int {
	for i, m := range obj.Members {
		if lit, ok := m.Name.Value.(hujson.Literal); ok && lit.String() == name {
			return i
		}
	}
	return -1
}

// setMember replaces the value of member name, keeping the whitespace and comments
// around it, or inserts the member after the member called after (at the start when
// after is absent), copying the indentation of its neighbours.
func setMember(obj *hujson.Object, name string, v hujson.ValueTrimmed, after string) {
	if i := memberIndex(obj, name); i >= 0 {
		obj.Members[i].Value.Value = v
		return
	}
	at := memberIndex(obj, after) + 1
	m := hujson.ObjectMember{
		Name:  hujson.Value{Value: hujson.String(name)},
		Value: hujson.Value{BeforeExtra: hujson.Extra(" "), Value: v},
	}
	if len(obj.Members) > 0 {
		ref := obj.Members[min(at, len(obj.Members)-1)]
		m.Name.BeforeExtra = indentOf(ref.Name.BeforeExtra)
		m.Value.BeforeExtra = append(hujson.Extra(nil), ref.Value.BeforeExtra...)
		if at == len(obj.Members) {
			// The new member becomes the last: it takes over the trailing comma.
			last := &obj.Members[at-1].Value
			m.Value.AfterExtra, last.AfterExtra = last.AfterExtra, nil
		}
	}
	obj.Members = append(obj.Members, hujson.ObjectMember{})
	copy(obj.Members[at+1:], obj.Members[at:])
	obj.Members[at] = m
}

// indentOf keeps only the last line break and indentation of extra, dropping comments
// that belong to the member it was copied from.
func indentOf(extra hujson.Extra) hujson.Extra {
	for i := len(extra) - 1; i >= 0; i-- {
		if extra[i] == '\n' {
			if i > 0 && extra[i-1] == '\r' {
				i--
			}
			return append(hujson.Extra(nil), extra[i:]...)
		}
		if extra[i] != ' ' && extra[i] != '\t' && extra[i] != '\r' {
			return hujson.Extra(" ")
		}
	}
	return append(hujson.Extra(nil), extra...)
}

// deleteMember removes member name, if present.
func deleteMember(obj *hujson.Object, name string) {
	i := memberIndex(obj, name)
	if i < 0 {
		return
	}
	if i == len(obj.Members)-1 && i > 0 {
		obj.Members[i-1].Value.AfterExtra = obj.Members[i].Value.AfterExtra
	}
	obj.Members = append(obj.Members[:i], obj.Members[i+1:]...)
}

// stringArray returns a one-line JSON array of strings: ["run", "github"].
func stringArray(ss []string) *hujson.Array {
	arr := &hujson.Array{}
	for i, s := range ss {
		v := hujson.Value{Value: hujson.String(s)}
		if i > 0 {
			v.BeforeExtra = hujson.Extra(" ")
		}
		arr.Elements = append(arr.Elements, v)
	}
	return arr
}
