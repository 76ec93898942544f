package risk

import (
	"fmt"
	"github.com/airlock-mcp/airlock/store"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// verbClass says what a verb in a tool name does.
type verbClass int

const (
	classRead verbClass = iota
	classWrite
	classDestroy
	classExec
	classMoney
	classSecurity
	classForce
	classKill
)

var classText = map[verbClass]string{
	classRead:     "a read",
	classWrite:    "which changes state",
	classDestroy:  "which destroys data",
	classExec:     "which runs code or commands",
	classMoney:    "which moves money",
	classSecurity: "which changes permissions or security",
	classForce:    "which forces or resets state",
	classKill:     "which stops processes or machines",
}

type verb struct {
	class verbClass
	// strong verbs are unambiguous: they count anywhere in the name, inflected or not.
	// Weak ones ("run", "commit", "payment") are also nouns, so after a read verb
	// ("get_workflow_run", "list_commits") they are read as the object, not the action.
	strong bool
}

func (v verb) tier() Tier {
	switch v.class {
	case classRead:
		return SafeRead
	case classWrite:
		return Write
	}
	return Destructive
}

var verbs = map[string]verb{}

func addVerbs(class verbClass, strong bool, words string) {
	for _, w := range strings.Fields(words) {
		verbs[w] = verb{class, strong}
	}
}

func init() {
	addVerbs(classRead, false, `read get list search find fetch query describe show view
		status diff log logs info inspect lookup count stat stats tree ls cat browse preview
		explain analyze analyse check validate verify resolve retrieve print display lint
		whoami ping echo summarize summarise compare grep scan`)
	addVerbs(classWrite, false, `update edit set put post add upload commit push move copy
		patch modify append merge apply publish release archive close cancel approve reject
		assign label star fork clone enable disable start stop restart schedule invite share
		reply forward notify comment react upsert import sync tag lock unlock mark
		transition submit subscribe unsubscribe replace`)
	addVerbs(classWrite, true, `create write send insert rename save`)
	addVerbs(classDestroy, true, `delete remove drop destroy purge wipe truncate erase rm
		rmdir unlink overwrite`)
	addVerbs(classExec, true, `exec execute eval evaluate uninstall`)
	addVerbs(classExec, false, `run shell command cmd bash sh powershell terminal spawn
		invoke install deploy`)
	addVerbs(classKill, true, `kill terminate shutdown reboot`)
	addVerbs(classMoney, true, `withdraw purchase`)
	addVerbs(classMoney, false, `transfer pay payment charge refund buy sell payout order
		trade swap money funds`)
	addVerbs(classSecurity, true, `sudo chmod chown`)
	addVerbs(classSecurity, false, `grant revoke permission permissions`)
	addVerbs(classForce, false, `reset force`)
}

// sensitive are nouns whose data is private: reading them is tier 1.
var sensitive = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`secret env environment credential cred creds key apikey
		token password passwd passphrase cookie history message email mail inbox private
		privatekey ssh vault keychain keyring wallet otp totp mfa conversation chat dm sms
		contact payment charge invoice transaction balance transfer refund payout card bank`) {
		sensitive[w] = true
	}
}

// overwriters are verbs that, applied to a file, can destroy what was there before
// (server-filesystem's write_file, edit_file and move_file).
var overwriters = map[string]bool{"write": true, "edit": true, "move": true, "rename": true,
	"replace": true, "patch": true, "overwrite": true}

// senders are verbs that deliver something to a recipient.
var senders = map[string]bool{"send": true, "reply": true, "forward": true, "share": true,
	"invite": true, "notify": true, "publish": true, "post": true, "email": true,
	"mail": true, "sms": true, "message": true, "text": true, "dm": true}

// nameInfo is what the tool name says.
type nameInfo struct {
	clean   string   // normalised, lower-case name
	effect  Tier     // tier implied by the verbs alone (no sensitivity)
	readish bool     // a read verb was found and no verb with an effect
	send    bool     // a verb that sends to a recipient
	reasons []Reason // name reasons subject to annotations
	hidden  []Reason // name reasons annotations never lower
}

// analyzeName reads the tool name.
func analyzeName(tool string) nameInfo {
	var info nameInfo
	stripped, hidden := stripHidden(tool)
	if nf := norm.NFKC.String(stripped); nf != stripped {
		info.hidden = append(info.hidden, Reason{SourceName, Write,
			"tool name uses look-alike compatibility characters (such as full-width letters); it may imitate another tool"})
		stripped = nf
	}
	if hidden > 0 {
		info.hidden = append(info.hidden, Reason{SourceName, Write, fmt.Sprintf(
			"tool name contains %d hidden character(s) (zero-width, bidi or control); it may imitate another tool", hidden)})
	}
	for _, r := range stripped {
		if r > unicode.MaxASCII && unicode.IsLetter(r) {
			info.hidden = append(info.hidden, Reason{SourceName, Write, fmt.Sprintf(
				"tool name contains the non-ASCII letter %q, which may imitate an ASCII one", r)})
			break
		}
	}
	toks := tokenize(stripped)
	info.clean = strings.ToLower(stripped)
	if len(toks) == 0 {
		info.effect = Write
		info.reasons = append(info.reasons, Reason{SourceName, Write, "the tool has no readable name, so its effect is unknown"})
		return info
	}

	seen := map[string]bool{}
	add := func(t Tier, text string) {
		if !seen[text] {
			seen[text] = true
			info.reasons = append(info.reasons, Reason{SourceName, t, text})
		}
	}
	var (
		afterRead, anyVerb, anyEffect bool
		overwriter                    string
		file                          bool
	)
	for i, tok := range toks {
		if tok == "file" || tok == "files" {
			file = true
		}
		word, v, isVerb := lookupVerb(tok)
		if isVerb && (v.strong || !afterRead) && v.class != classRead {
			anyVerb, anyEffect = true, true
			info.effect = max(info.effect, v.tier())
			add(v.tier(), fmt.Sprintf("tool name says %q, %s", word, classText[v.class]))
			if overwriters[word] {
				overwriter = word
			}
			if senders[word] {
				info.send = true
			}
			continue
		}
		if isVerb && v.class == classRead {
			anyVerb, afterRead = true, true
			add(SafeRead, fmt.Sprintf("tool name says %q, a read", word))
			continue
		}
		if i == 0 && senders[tok] {
			info.send = true
		}
		if n, ok := lookupNoun(tok); ok {
			add(SensitiveRead, fmt.Sprintf("tool name mentions %q, which may expose private data", n))
			continue
		}
		if !isVerb {
			if w, v, ok := prefixVerb(tok); ok {
				anyVerb, anyEffect = true, true
				info.effect = max(info.effect, v.tier())
				add(v.tier(), fmt.Sprintf("tool name %q appears to start with %q, %s", tok, w, classText[v.class]))
			}
		}
	}
	if overwriter != "" && file {
		info.effect = Destructive
		add(Destructive, fmt.Sprintf("tool name says %q on a file, which can overwrite or destroy existing content", overwriter))
	}
	if !anyVerb {
		info.effect = Write
		add(Write, fmt.Sprintf("tool name %q has no verb Airlock recognises, so its effect is unknown", info.clean))
	}
	info.readish = anyVerb && !anyEffect
	return info
}

// lookupVerb finds tok, or for strong and read verbs an inflection of it ("deletes",
// "dropped"), in the verb table.
func lookupVerb(tok string) (string, verb, bool) {
	if v, ok := verbs[tok]; ok {
		return tok, v, true
	}
	for _, s := range stems(tok) {
		if v, ok := verbs[s]; ok && (v.strong || v.class == classRead) {
			return s, v, true
		}
	}
	return "", verb{}, false
}

func lookupNoun(tok string) (string, bool) {
	if sensitive[tok] {
		return tok, true
	}
	for _, s := range stems(tok) {
		if sensitive[s] {
			return s, true
		}
	}
	return "", false
}

// prefixVerb catches run-together names such as "deletefile" with long strong verbs only,
// so that "settings" or "runtime" do not match.
func prefixVerb(tok string) (string, verb, bool) {
	for _, w := range []string{"delete", "remove", "destroy", "purge", "truncate", "terminate",
		"execute", "overwrite", "withdraw", "purchase", "uninstall"} {
		if len(tok) > len(w) && strings.HasPrefix(tok, w) {
			return w, verbs[w], true
		}
	}
	return "", verb{}, false
}

// stems returns plausible base forms of an inflected English word.
func stems(tok string) []string {
	var out []string
	trim := func(suf string) (string, bool) {
		if len(tok) > len(suf)+1 && strings.HasSuffix(tok, suf) {
			return tok[:len(tok)-len(suf)], true
		}
		return "", false
	}
	if s, ok := trim("s"); ok {
		out = append(out, s)
	}
	if s, ok := trim("es"); ok {
		out = append(out, s)
	}
	if s, ok := trim("d"); ok {
		out = append(out, s)
	}
	for _, suf := range []string{"ed", "ing"} {
		if s, ok := trim(suf); ok {
			out = append(out, s, s+"e")
			if n := len(s); n >= 2 && s[n-1] == s[n-2] {
				out = append(out, s[:n-1])
			}
		}
	}
	return out
}

// tokenize splits a name into lower-case words (see store.SplitWords, which the log's
// redaction uses to read field names the same way).
func tokenize(s string) []string { return store.SplitWords(s) }

// isHidden reports whether r is invisible or reorders text: format characters
// (zero-width, bidi controls, tags), controls, variation selectors and fillers.
func isHidden(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return true
	case unicode.Is(unicode.Cf, r), unicode.IsControl(r):
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	case r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x180E:
		return true
	}
	return false
}

// isBidi reports whether r is a bidirectional control (Trojan Source).
func isBidi(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) ||
		(r >= 0x2066 && r <= 0x2069)
}

// stripHidden removes hidden characters (see isHidden) and reports how many it removed.
func stripHidden(s string) (string, int) {
	n := 0
	for _, r := range s {
		if isHidden(r) {
			n++
		}
	}
	if n == 0 {
		return s, 0
	}
	var b strings.Builder
	for _, r := range s {
		if !isHidden(r) {
			b.WriteRune(r)
		}
	}
	return b.String(), n
}

// descWords are description words that announce a dangerous effect.
var descWords = map[string]string{
	"permanently": "permanent changes", "irreversible": "irreversible changes",
	"irreversibly": "irreversible changes", "overwrite": "overwriting", "overwrites": "overwriting",
	"arbitrary": "arbitrary code or commands", "shell": "shell commands",
	"funds": "moving money", "money": "moving money", "payment": "payments", "payments": "payments",
}

// descriptionReasons looks for dangerous words in the tool description. A description can
// only raise: to 3 for tools whose name already implies a write, to 2 for read-named ones.
func descriptionReasons(desc string, n nameInfo) []Reason {
	if desc == "" {
		return nil
	}
	if len(desc) > 4096 {
		desc = desc[:4096]
	}
	desc, _ = stripHidden(desc)
	low := strings.ToLower(desc)
	found := ""
	if strings.Contains(low, "cannot be undone") || strings.Contains(low, "can't be undone") {
		found = "changes that cannot be undone"
	}
	if found == "" {
		for _, w := range tokenize(low) {
			if t, ok := descWords[w]; ok {
				found = t
				break
			}
			if _, v, ok := lookupVerb(w); ok && v.strong && v.class != classWrite {
				found = fmt.Sprintf("%q", w)
				break
			}
		}
	}
	if found == "" {
		return nil
	}
	if n.readish {
		return []Reason{{SourceDescription, Write, fmt.Sprintf("the description mentions %s although the name suggests a read", found)}}
	}
	if n.effect < Write {
		return nil
	}
	return []Reason{{SourceDescription, Destructive, fmt.Sprintf("the description mentions %s", found)}}
}
