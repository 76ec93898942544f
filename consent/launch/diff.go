package launch

import (
	"fmt"
	"strconv"
)

// ChangeKind is the kind of a Change.
type ChangeKind string

// The kinds of change Diff reports.
const (
	ArgAdded   ChangeKind = "arg_added"
	ArgRemoved ChangeKind = "arg_removed"
	ArgChanged ChangeKind = "arg_changed"
	DirChanged ChangeKind = "dir_changed"
	ExeChanged ChangeKind = "exe_changed"
	EnvAdded   ChangeKind = "env_added"
	EnvRemoved ChangeKind = "env_removed"
	EnvChanged ChangeKind = "env_changed"
)

// Change is one difference between an approved Command and the one about to run.
type Change struct {
	Kind ChangeKind
	// Index is the argument's index: in the approved Argv for ArgRemoved, in the new one
	// for ArgAdded and ArgChanged. It is 0 for other kinds.
	Index int
	// Key is the env key for the Env kinds.
	Key string
	// Old and New are the values as a person may see them: secret env values and
	// credentials in arguments are replaced by bullets. Old is "" for additions and New
	// is "" for removals.
	Old, New string
}

// String describes the change in a line, such as `argument 2 changed: "a" → "b"`.
func (c Change) String() string {
	q := strconv.Quote
	switch c.Kind {
	case ArgAdded:
		return fmt.Sprintf("argument %d added: %s", c.Index, q(c.New))
	case ArgRemoved:
		return fmt.Sprintf("argument %d removed: %s", c.Index, q(c.Old))
	case ArgChanged:
		return fmt.Sprintf("argument %d changed: %s → %s", c.Index, q(c.Old), q(c.New))
	case DirChanged:
		return fmt.Sprintf("working directory changed: %s → %s", q(c.Old), q(c.New))
	case ExeChanged:
		return fmt.Sprintf("executable changed: %s → %s", orNotFound(c.Old), orNotFound(c.New))
	case EnvAdded:
		return fmt.Sprintf("env %s added: %s", c.Key, q(c.New))
	case EnvRemoved:
		return fmt.Sprintf("env %s removed", c.Key)
	case EnvChanged:
		if c.Old == c.New {
			return fmt.Sprintf("env %s changed (secret)", c.Key)
		}
		return fmt.Sprintf("env %s changed: %s → %s", c.Key, q(c.Old), q(c.New))
	}
	return "unknown change"
}

func orNotFound(p string) string {
	if p == "" {
		return "(not found)"
	}
	return strconv.Quote(p)
}

// Diff lists what differs between the approved command and now, in order: arguments
// (aligned, so one inserted argument is one ArgAdded), working directory, executable,
// then env keys in sorted order. It reports every difference, including a rotated
// secret, which Fingerprint ignores. Name is not compared.
func Diff(approved, now Command) []Change {
	var out []Change
	oldArgs, newArgs := shownArgs(approved), shownArgs(now)
	out = append(out, diffArgs(approved.Argv, now.Argv, oldArgs, newArgs)...)
	if approved.Dir != now.Dir {
		out = append(out, Change{Kind: DirChanged, Old: approved.Dir, New: now.Dir})
	}
	if approved.Executable != now.Executable {
		out = append(out, Change{Kind: ExeChanged, Old: approved.Executable, New: now.Executable})
	}
	oldEnv, newEnv := classifyAll(approved.Env), classifyAll(now.Env)
	i, j := 0, 0
	for i < len(oldEnv) || j < len(newEnv) {
		switch {
		case j == len(newEnv) || i < len(oldEnv) && oldEnv[i].key < newEnv[j].key:
			out = append(out, Change{Kind: EnvRemoved, Key: oldEnv[i].key, Old: oldEnv[i].display()})
			i++
		case i == len(oldEnv) || newEnv[j].key < oldEnv[i].key:
			out = append(out, Change{Kind: EnvAdded, Key: newEnv[j].key, New: newEnv[j].display()})
			j++
		default:
			if oldEnv[i].value != newEnv[j].value {
				out = append(out, Change{Kind: EnvChanged, Key: oldEnv[i].key, Old: oldEnv[i].display(), New: newEnv[j].display()})
			}
			i++
			j++
		}
	}
	return out
}

// shownArgs returns c's arguments with the credentials Analyze finds in them hidden.
func shownArgs(c Command) []string {
	parts := map[int][][2]int{}
	for _, s := range Analyze(c).Spans {
		if s.Category == PlaintextCredential && s.Where.Field == FieldArg {
			parts[s.Where.Arg] = append(parts[s.Where.Arg], [2]int{s.Start, s.End})
		}
	}
	out := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		out[i] = redact(a, parts[i])
	}
	return out
}

// maxLCS bounds the work of aligning arguments; beyond it they are compared by position.
const maxLCS = 1 << 20

// diffArgs aligns old and new arguments on a longest common subsequence, then reports
// each run of differences as changed pairs followed by the extra removals or additions.
func diffArgs(old, new, oldShown, newShown []string) []Change {
	var out []Change
	emit := func(dels, adds []int) {
		k := 0
		for ; k < len(dels) && k < len(adds); k++ {
			out = append(out, Change{Kind: ArgChanged, Index: adds[k], Old: oldShown[dels[k]], New: newShown[adds[k]]})
		}
		for _, d := range dels[k:] {
			out = append(out, Change{Kind: ArgRemoved, Index: d, Old: oldShown[d]})
		}
		for _, a := range adds[k:] {
			out = append(out, Change{Kind: ArgAdded, Index: a, New: newShown[a]})
		}
	}
	n, m := len(old), len(new)
	if (n+1)*(m+1) > maxLCS {
		var dels, adds []int
		for i := 0; i < max(n, m); i++ {
			switch {
			case i >= n:
				adds = append(adds, i)
			case i >= m:
				dels = append(dels, i)
			case old[i] != new[i]:
				emit([]int{i}, []int{i})
			}
		}
		emit(dels, adds)
		return out
	}
	// lcs[i][j] is the LCS length of old[i:] and new[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if old[i] == new[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var dels, adds []int
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && old[i] == new[j]:
			emit(dels, adds)
			dels, adds = nil, nil
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			adds = append(adds, j)
			j++
		default:
			dels = append(dels, i)
			i++
		}
	}
	emit(dels, adds)
	return out
}
