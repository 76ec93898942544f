package risk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/airlock-mcp/airlock/store"
)

// Limits on the work done per call, whatever the size of the arguments.
const (
	maxTokens = 20000 // JSON tokens read
	// Every string is pattern-matched whole up to these bounds, and past them the call
	// goes to a person: anything could hide after the part that was read (a DROP TABLE
	// after 16 KiB of comment). 1 MiB of ordinary text costs about 0.4 ms; text made of
	// nothing but hint words, the worst case, about 0.3 s.
	maxStringScan  = 1 << 20        // bytes of one string that are pattern-matched
	maxTotalScan   = 1<<20 + 64<<10 // bytes pattern-matched in all: a whole 1 MiB string and its neighbours
	maxPathDepth   = 32             // nesting depth shown in argument paths
	maxExcerptRune = 40
)

type finding struct {
	kind string
	tier Tier
	path string
	text string
}

// scanner walks the arguments and collects findings, one per kind. A regular expression
// that has already matched is not run again, so counts are not kept.
type scanner struct {
	name     nameInfo
	findings []*finding
	byKind   map[string]*finding
	scanned  int
	stopped  bool
}

func (s *scanner) add(kind string, t Tier, path, text string) {
	if f := s.byKind[kind]; f != nil {
		if t > f.tier {
			f.tier, f.path, f.text = t, path, text
		}
		return
	}
	f := &finding{kind: kind, tier: t, path: path, text: text}
	s.byKind[kind] = f
	s.findings = append(s.findings, f)
}

// writeTier is the tier for something dangerous to write: 3 when the tool writes
// (or its effect is unknown), else lo.
func (s *scanner) writeTier(lo Tier) Tier {
	if s.name.effect >= Write {
		return Destructive
	}
	return lo
}

// argumentReasons walks args and returns the argument reasons, and whether one of them
// makes the call dangerous in itself (see Assessment.Danger).
func argumentReasons(args json.RawMessage, n nameInfo) (rs []Reason, danger bool) {
	trimmed := bytes.TrimSpace(args)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, false
	}
	s := &scanner{name: n, byKind: map[string]*finding{}}
	s.walk(trimmed, "arguments", 0)
	for _, f := range s.findings {
		rs = append(rs, Reason{SourceArgument, f.tier, f.text})
		danger = danger || dangerInItself(f) || f.kind == "secret" && !keepsSecrets(n)
	}
	return rs, danger
}

// keepsSecrets reports whether a tool's name says it stores or sets credentials
// (create_secret, set_env_var, add_api_key), for which a credential in the arguments is
// the point, as money is for a payment tool: a permission for the tool covers it. For any
// other tool a credential in the arguments may be leaving, and each such call asks.
func keepsSecrets(n nameInfo) bool {
	for _, w := range store.Words(n.clean) {
		if secretToolWords[w] {
			return true
		}
	}
	return false
}

var secretToolWords = map[string]bool{"secret": true, "secrets": true, "token": true, "tokens": true,
	"key": true, "keys": true, "apikey": true, "credential": true, "credentials": true, "password": true,
	"passwd": true, "env": true, "vault": true, "jwt": true, "auth": true, "login": true, "signin": true, "oauth": true}

// dangerInItself reports whether a finding makes a call dangerous whatever the tool
// was allowed for: tier-3 shell, SQL and credential-file findings, and arguments too
// large to read whole (anything can hide past the part that was read). Money and
// recipients are what payment and mail tools are for: a permission for the tool covers
// those.
func dangerInItself(f *finding) bool {
	if f.tier < Destructive {
		return false
	}
	switch f.kind {
	case "long", "truncated":
		return true
	}
	return strings.HasPrefix(f.kind, "shell:") || strings.HasPrefix(f.kind, "path:") || strings.HasPrefix(f.kind, "sql:")
}

type frame struct {
	obj       bool
	path      string
	depth     int
	field     string // the member name, or for arrays the nearest enclosing one
	key       string // current member name (objects)
	expectKey bool
	idx       int
}

// maxEncodedJSON is how deep JSON encoded inside a string argument (a request body, a
// Mongo filter, {"sql": …} handed on as text) is read as arguments in turn.
const maxEncodedJSON = 3

// walk checks every key and value of the JSON text data, which is the value at base;
// encoded is how many levels of JSON-in-a-string data is inside.
func (s *scanner) walk(data []byte, base string, encoded int) {
	dec := newTokenizer(data)
	// checkString looks at maxStringScan bytes of a string and notes that it is longer:
	// a few bytes more (a cut at a character boundary may give back up to three) suffice.
	dec.maxStr = maxStringScan + 4
	var stack []*frame
	valuePath := func() (path, field string, depth int) {
		if len(stack) == 0 {
			return base, "", 0
		}
		top := stack[len(stack)-1]
		if top.depth >= maxPathDepth {
			return top.path, top.field, top.depth + 1
		}
		if top.obj {
			return joinKey(top.path, top.key), top.key, top.depth + 1
		}
		return top.path + "[" + strconv.Itoa(top.idx) + "]", top.field, top.depth + 1
	}
	consumed := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.obj {
			top.expectKey = true
		} else {
			top.idx++
		}
	}
	for tokens := 0; ; tokens++ {
		if tokens == maxTokens {
			s.add("truncated", Destructive, "arguments", fmt.Sprintf(
				"arguments are too large to check fully; only the first %d JSON tokens were scanned", maxTokens))
			return
		}
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) && len(stack) == 0 {
			return
		}
		if err != nil { // io.EOF with open objects or arrays is truncated JSON
			s.add("invalid", s.writeTier(Write), "arguments", "arguments are not valid JSON, so they could not be checked")
			return
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				p, f, depth := valuePath()
				if depth > maxPathDepth {
					p += "…"
				}
				stack = append(stack, &frame{obj: d == '{', path: p, field: f, depth: depth, expectKey: d == '{'})
			default:
				stack = stack[:len(stack)-1]
				consumed()
			}
			continue
		}
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.obj && top.expectKey {
				key, _ := tok.(string)
				top.key, top.expectKey = key, false
				s.checkString(joinKey(top.path, key)+" (a key)", "", key)
				if s.stopped {
					return
				}
				continue
			}
		}
		p, field, _ := valuePath()
		switch v := tok.(type) {
		case string:
			s.checkString(p, field, v)
			if !s.stopped && encoded < maxEncodedJSON && encodedJSON(v) {
				// Its own strings are searched on their own: SQL inside "{\"sql\": …}"
				// would otherwise sit between quotes, which the SQL reading skips.
				s.walk([]byte(v), p+" (JSON inside)", encoded+1)
			}
		case json.Number:
			s.checkNumber(p, field, v)
		}
		if s.stopped {
			return
		}
		consumed()
	}
}

// encodedJSON reports whether v is an object or array encoded as JSON text, short
// enough to have been searched whole.
func encodedJSON(v string) bool {
	t := strings.TrimSpace(v)
	return len(v) <= maxStringScan && len(t) >= 2 && (t[0] == '{' && t[len(t)-1] == '}' || t[0] == '[' && t[len(t)-1] == ']') && json.Valid([]byte(t))
}

// isIdent reports whether key is an identifier ([A-Za-z_][A-Za-z0-9_]*), shown as .key.
func isIdent(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func joinKey(path, key string) string {
	if isIdent(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(excerpt(key)) + "]"
}

func excerpt(s string) string {
	rs := []rune(s)
	if len(rs) > maxExcerptRune {
		return string(rs[:maxExcerptRune]) + "…"
	}
	return s
}

var moneyFields = map[string]bool{"amount": true, "price": true, "total": true, "cost": true,
	"fee": true, "subtotal": true, "payment": true, "charge": true, "refund": true}

var recipientFields = map[string]bool{"to": true, "cc": true, "bcc": true, "recipient": true,
	"recipients": true, "email": true, "emails": true, "phone": true, "phones": true,
	"mobile": true}

func fieldHas(field string, set map[string]bool) bool {
	for _, t := range store.Words(field) {
		if set[t] {
			return true
		}
	}
	return false
}

func (s *scanner) checkNumber(path, field string, n json.Number) {
	if field == "" || !fieldHas(field, moneyFields) {
		return
	}
	if f, err := n.Float64(); err == nil && f == 0 {
		return
	}
	s.add("money", s.writeTier(Write), path, fmt.Sprintf("argument %s is an amount of money (%s)", path, n))
}

var (
	emailRE = regexp.MustCompile(`(?i)[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}`)
	phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{5,}[0-9]$`)
	numRE   = regexp.MustCompile(`^\s*-?[0-9][0-9,]*(\.[0-9]+)?\s*$`)
	moneyRE = regexp.MustCompile(`[$€£¥₹₩₿]\s?[0-9][0-9,]*(\.[0-9]+)?|\b(USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|INR|BTC|ETH|USDC|USDT)\s?[0-9][0-9,]*(\.[0-9]+)?\b|\b[0-9][0-9,]*(\.[0-9]+)?\s?(USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|INR|BTC|ETH|USDC|USDT)\b`)
)

// pattern is a regular expression run only when the lower-cased text contains one of
// its hints, which keeps scanning large arguments cheap.
var moneyHints = hints(`$ € £ ¥ ₹ ₩ ₿ usd eur gbp jpy chf cad aud cny inr btc eth usdc usdt`)

type pattern struct {
	hints hintSet
	re    *regexp.Regexp
	what  string
}

func (p pattern) match(t *text) bool {
	return p.hints.in(t) && p.re.MatchString(t.v)
}

// text is a string being checked: as given, lower-cased, and the sets of bytes and of
// byte pairs in the lower-cased form. A hint with a byte or a pair of adjacent bytes that
// the text lacks cannot occur in it, which settles most hints for most strings without a
// search: bytes alone do not for long text, where nearly every letter occurs.
type text struct {
	v     string
	low   string // v lower-cased; set by lower
	lowOK bool
	bytes byteSet
	pairs *pairSet // nil for short text, where a search costs less than the set
}

// pairsFrom is the length from which a text's byte pairs are collected.
const pairsFrom = 256

// newText returns the text v. low is v lower-cased, or "" to have it made only when a
// search needs it (v must then be printable ASCII).
func newText(v, low string) text {
	t := text{v: v, low: low, lowOK: low != ""}
	switch {
	case len(v) >= pairsFrom && t.lowOK:
		t.pairs = getPairs()
		t.pairs.addBytes(low)
		t.bytes = t.pairs.bytes(low[len(low)-1])
	case len(v) >= pairsFrom:
		t.pairs = getPairs()
		t.pairs.addASCIILower(v)
		t.bytes = t.pairs.bytes(lowerASCII[v[len(v)-1]])
	case t.lowOK:
		t.bytes = setOf(low)
	default:
		t.lowOK, t.low = true, toLowerASCII(v)
		t.bytes = setOf(t.low)
	}
	return t
}

// textOf returns v as checkString searches it; printable and upper are asciiTraits(v).
// The lower-cased form of printable ASCII with upper-case letters is made only when a
// search needs it.
func textOf(v string, printable, upper bool) text {
	switch {
	case !printable:
		return newText(v, strings.ToLower(v))
	case !upper:
		return newText(v, v)
	}
	return newText(v, "")
}

// lower returns the text lower-cased.
func (t *text) lower() string {
	if !t.lowOK {
		t.low, t.lowOK = toLowerASCII(t.v), true
	}
	return t.low
}

// release returns the text's pair set for reuse; t must not be used after.
func (t *text) release() {
	if t.pairs != nil {
		pairPool.Put(t.pairs)
		t.pairs = nil
	}
}

// lowerASCII maps each byte to itself, but for A to Z, which map to a to z.
var lowerASCII = func() (m [256]byte) {
	for i := range m {
		m[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			m[i] += 'a' - 'A'
		}
	}
	return m
}()

// toLowerASCII is strings.ToLower for printable ASCII, eight bytes at a time.
func toLowerASCII(s string) string {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	b := make([]byte, len(s))
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := load64(s, i)
		// With every byte below 0x80 (printable ASCII), the high bit of a byte of up is
		// set exactly when the byte is from A to Z (no carries between bytes).
		up := (v + lsb*(0x80-'A')) &^ (v + lsb*(0x80-'Z'-1)) & msb
		v |= up >> 2 // 0x80 >> 2 is 0x20, the case bit
		b[i], b[i+1], b[i+2], b[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		b[i+4], b[i+5], b[i+6], b[i+7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
	}
	for ; i < len(s); i++ {
		b[i] = lowerASCII[s[i]]
	}
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

// pairSet is a set of byte pairs: bit a<<8|b is set when byte a is followed by byte b.
type pairSet [1 << 10]uint64

var pairPool = sync.Pool{New: func() any { return new(pairSet) }}

func getPairs() *pairSet {
	p := pairPool.Get().(*pairSet)
	clear(p[:])
	return p
}

func (p *pairSet) add(a, b byte) {
	k := uint(a)<<8 | uint(b)
	p[k>>6] |= 1 << (k & 63)
}

func (p *pairSet) has(k uint16) bool { return p[k>>6]&(1<<(k&63)) != 0 }

// addBytes adds the pairs of s.
func (p *pairSet) addBytes(s string) {
	for i := 1; i < len(s); i++ {
		p.add(s[i-1], s[i])
	}
}

// addASCIILower adds the pairs of s lower-cased (s is ASCII).
func (p *pairSet) addASCIILower(s string) {
	prev := lowerASCII[s[0]]
	for i := 1; i < len(s); i++ {
		c := lowerASCII[s[i]]
		p.add(prev, c)
		prev = c
	}
}

// bytes returns the set of bytes that begin a pair, with last (the text's last byte).
func (p *pairSet) bytes(last byte) byteSet {
	var b byteSet
	for c := range 256 {
		row := p[c<<2 : c<<2+4]
		if row[0]|row[1]|row[2]|row[3] != 0 {
			b[c>>6] |= 1 << (c & 63)
		}
	}
	b[last>>6] |= 1 << (last & 63)
	return b
}

// byteSet is a set of byte values.
type byteSet [4]uint64

func setOf(s string) byteSet {
	// Four sets filled in turn, merged at the end: each byte's update does not wait for
	// the previous byte's.
	var b, c, d, e byteSet
	i := 0
	for ; i+4 <= len(s); i += 4 {
		w := s[i : i+4]
		b[w[0]>>6] |= 1 << (w[0] & 63)
		c[w[1]>>6] |= 1 << (w[1] & 63)
		d[w[2]>>6] |= 1 << (w[2] & 63)
		e[w[3]>>6] |= 1 << (w[3] & 63)
	}
	for ; i < len(s); i++ {
		b[s[i]>>6] |= 1 << (s[i] & 63)
	}
	for k := range b {
		b[k] |= c[k] | d[k] | e[k]
	}
	return b
}

func (b byteSet) hasAll(m byteSet) bool {
	return b[0]&m[0] == m[0] && b[1]&m[1] == m[1] && b[2]&m[2] == m[2] && b[3]&m[3] == m[3]
}

// hintSet is a list of lower-case words, each with its byte set and its byte pairs.
type hintSet struct {
	words []string
	sets  []byteSet
	pairs [][]uint16
}

func hints(s string) hintSet {
	h := hintSet{words: strings.Fields(s)}
	for _, w := range h.words {
		h.sets = append(h.sets, setOf(w))
		var ps []uint16
		for i := 1; i < len(w); i++ {
			ps = append(ps, uint16(w[i-1])<<8|uint16(w[i]))
		}
		h.pairs = append(h.pairs, ps)
	}
	return h
}

// searchAll makes every hint a search, without the byte and pair filters: tests compare
// the classifier's results both ways.
var searchAll bool

// in reports whether t's lower-cased form contains one of the words.
func (h hintSet) in(t *text) bool {
	for i, w := range h.words {
		if (searchAll || t.bytes.hasAll(h.sets[i]) && t.hasPairs(h.pairs[i])) && strings.Contains(t.lower(), w) {
			return true
		}
	}
	return false
}

// hasPairs reports whether t may hold every pair of ps: always, when its pairs were not
// collected.
func (t *text) hasPairs(ps []uint16) bool {
	if t.pairs == nil {
		return true
	}
	for _, k := range ps {
		if !t.pairs.has(k) {
			return false
		}
	}
	return true
}

var sensitivePaths = []pattern{
	{hints(`.ssh`), regexp.MustCompile(`(?i)(^|[^a-z0-9_])\.ssh([/\\]|$)`), "points into ~/.ssh"},
	{hints(`.aws`), regexp.MustCompile(`(?i)(^|[^a-z0-9_])\.aws([/\\]|$)`), "points into ~/.aws"},
	{hints(`.gnupg`), regexp.MustCompile(`(?i)(^|[^a-z0-9_])\.gnupg([/\\]|$)`), "points into ~/.gnupg"},
	{hints(`.kube`), regexp.MustCompile(`(?i)(^|[^a-z0-9_])\.kube([/\\]|$)`), "points into ~/.kube"},
	{hints(`.env`), regexp.MustCompile(`(?i)(^|[/\\\s"'=])\.env(rc|\.[a-z0-9_.-]+)?($|[/\\\s"'])`), "names a .env file"},
	{hints(`/etc/`), regexp.MustCompile(`(?i)/etc/(shadow|gshadow|sudoers)`), "names a system password or sudo file"},
	{hints(`id_`), regexp.MustCompile(`(?i)\bid_(rsa|dsa|ecdsa|ed25519)\b`), "names an SSH private key"},
	{hints(`.pem .p12 .pfx`), regexp.MustCompile(`(?i)\.(pem|p12|pfx)($|[\s"'])`), "names a key or certificate file"},
	{hints(`.netrc .git-credentials .pgpass .npmrc .pypirc credentials.json .docker .config .azure .vault-token .my.cnf .terraform.d`), regexp.MustCompile(`(?i)(^|[/\\])(\.netrc|\.git-credentials|\.pgpass|\.npmrc|\.pypirc|credentials\.json|\.vault-token|\.my\.cnf)($|[\s"'])|\.docker[/\\]config\.json|\.config[/\\](gcloud|gh[/\\]hosts\.yml)|\.terraform\.d[/\\]credentials|(^|[/\\])\.azure([/\\]|$)`), "names a credentials file"},
	{hints(`environ`), regexp.MustCompile(`(?i)/proc/(self|thread-self|[0-9]+)(/task/[0-9]+)?/environ\b`), "names a process's environment (where tokens live)"},
	{hints(`private`), regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`), "contains a private key"},
}

var shellPatterns = []pattern{
	{hints(`rm`), regexp.MustCompile(`(?i)\brm\s+(-{1,2}[a-z-]+\s+)*(-[a-z]*[rf][a-z]*|--recursive|--force)\b`), "deletes files recursively or by force (rm -rf)"},
	{hints(`mkfs`), regexp.MustCompile(`(?i)\bmkfs(\.[a-z0-9]+)?\b`), "formats a file system (mkfs)"},
	{hints(`of=`), regexp.MustCompile(`(?i)\bdd\s+[^|;&\n]*\bof=`), "writes raw to a device or file (dd of=)"},
	{hints(`curl wget`), regexp.MustCompile(`(?i)\b(curl|wget)\b[^|;&\n]*\|\s*(sudo\s+)?((ba|z|k|da|fi)?sh|python[0-9.]*|perl|ruby|node)\b|\b(ba|z)?sh\s+(<\(|-c\s+["']?\$\()\s*(curl|wget)\b`), "pipes a download into a shell"},
	{hints(`base64 xxd`), regexp.MustCompile(`(?i)\b(base64\s+(-d|--decode|-D)|xxd\s+-r)\b[^;&\n]*\|\s*(sudo\s+)?((ba|z|k|da|fi)?sh|python[0-9.]*|perl|ruby|node)\b`), "runs hidden, encoded commands (base64 -d | sh)"},
	{hints(`find`), regexp.MustCompile(`(?i)\bfind\b[^|;&\n]*\s(-delete|-exec\s+rm)\b`), "deletes files with find -delete"},
	{hints(`clean`), regexp.MustCompile(`(?i)\bgit\s+clean\s+(-[a-z]*f|--force)`), "deletes untracked files with git clean"},
	{hints(`shred`), regexp.MustCompile(`(?i)\bshred\s+-`), "overwrites files with shred"},
	{hints(`kubectl`), regexp.MustCompile(`(?i)\bkubectl\s+([^|;&\n]*\s)?delete\b`), "deletes Kubernetes resources (kubectl delete)"},
	{hints(`terraform tofu`), regexp.MustCompile(`(?i)\b(terraform|tofu)\s+(destroy\b|apply\b[^|;&\n]*-auto-approve)`), "changes or destroys infrastructure without review (terraform)"},
	{hints(`aws`), regexp.MustCompile(`(?i)\baws\s+s3\s+(rm|rb)\b`), "deletes cloud storage (aws s3 rm)"},
	{hints(`sudo`), regexp.MustCompile(`(?im)(^|[;&|({` + "`" + `]|\$\()\s*sudo\s`), "runs a command as root (sudo)"},
	{hints(`doas pkexec su`), regexp.MustCompile(`(?im)(^|[;&|({` + "`" + `]|\$\()\s*(doas|pkexec)\s|(^|[;&|({` + "`" + `]|\$\()\s*su\s+(-[a-z]*\s+)*(-c|--command|-|--login|root)(\s|$)`), "runs a command as another user (doas, pkexec, su)"},
	{hints(`:(`), regexp.MustCompile(`:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:`), "is a fork bomb"},
	{hints(`/dev/`), regexp.MustCompile(`(?i)>\s*/dev/(sd[a-z]|nvme|disk|hd[a-z])`), "writes over a disk device"},
	{hints(`chmod`), regexp.MustCompile(`(?i)\bchmod\s+(-R\s+)?[0-7]?777\b`), "makes files writable by everyone (chmod 777)"},
	{hints(`push`), regexp.MustCompile(`(?i)\bgit\s+push\b[^;&|\n]*\s(--force|-f)\b`), "force-pushes with git"},
	{hints(`--hard`), regexp.MustCompile(`(?i)\bgit\s+reset\s+--hard\b`), "discards work with git reset --hard"},
	{hints(`rm`), regexp.MustCompile(`(?i)\brm\s+(-\S+\s+)*\*|\bxargs\s+(-\S+\s+)*rm\b`), "deletes files by wildcard or by list (rm *, xargs rm)"},
	// git branch -D (force) but not -d (merged branches only): case matters there.
	{hints(`checkout restore branch stash`), regexp.MustCompile(`(?i:\bgit\s+(checkout|restore)\s+(\S+\s+)*(--\s+)?\.(\s|$)|\bgit\s+stash\s+(drop|clear)\b)|\bgit\s+branch\s+(\S+\s+)*(-[a-zA-Z]*D\b|--delete\s+--force|--force\s+--delete)`), "discards work or deletes branches with git"},
	{hints(`chown`), regexp.MustCompile(`(?i)\bchown\s+(-\S+\s+)*-[a-z]*R`), "changes the owner of a directory tree (chown -R)"},
	{hints(`>`), regexp.MustCompile(`(^|[^>&0-9])>\s*((~|\$HOME|\$\{HOME\})/\.|/etc/|/usr/|/boot/)`), "overwrites a dotfile or a system file with a shell redirect"},
	{hints(`docker podman`), regexp.MustCompile(`(?i)\b(docker|podman)\s+(([a-z]+\s+)?prune\b|volume\s+rm\b|(rm|rmi)\s+(-\S+\s+)*-[a-z]*f)`), "deletes containers, images or volumes (docker prune, rm -f)"},
	{hints(`kill`), regexp.MustCompile(`(?i)\bkill\s+(-\S+\s+)*-1(\s|$)|\b(pkill|killall)\s`), "stops processes (kill -1, pkill, killall)"},
	{hints(`shutdown reboot poweroff halt`), regexp.MustCompile(`(?im)(^|[;&|({` + "`" + `]|\$\(|\bsudo\s)\s*(shutdown|reboot|poweroff|halt|systemctl\s+(poweroff|reboot|halt))\b`), "shuts down or restarts the machine"},
	{hints(`crontab`), regexp.MustCompile(`(?i)\bcrontab\s+(-\S+\s+)*-[a-z]*r`), "removes every scheduled job (crontab -r)"},
	{hints(`delete`), regexp.MustCompile(`(?i)\b(curl|http|https|xh)\b[^|;&\n]*(\s-X\s*|--request[=\s]+|\s)DELETE\b`), "sends an HTTP DELETE request"},
	{hints(`delete destroy terminate`), regexp.MustCompile(`(?i)\b(gh|gcloud|az|heroku|flyctl|fly|vercel|doctl|aws)\s+([^|;&\n]*\s)?(delete|destroy|terminate-instances|apps:destroy|delete-[a-z-]+)\b`), "deletes cloud or hosted resources"},
	{hints(`flush`), regexp.MustCompile(`(?i)\bFLUSH(ALL|DB)\b`), "erases a Redis database (FLUSHALL)"},
	{hints(`truncate`), regexp.MustCompile(`(?i)\btruncate\s+(-\S+\s+)*-s\s*0\b`), "empties files (truncate -s 0)"},
	{hints(`rmtree unlink rmsync rm_rf rimraf remove_dir_all`), regexp.MustCompile(`(?i)\b(python[0-9.]*|perl|ruby|node|deno|bun)\s+(-\S+\s+)*-[ce]\b[^\n]*\b(rmtree|unlink|rmSync|rm_rf|rimraf|remove_dir_all)`), "deletes files from inline code"},
	{hints(`curl wget`), regexp.MustCompile(`(?i)\beval\s+["']?\$\(\s*(curl|wget)\b`), "runs a download as commands (eval $(curl …))"},
	{hints(`publish upload push`), regexp.MustCompile(`(?im)(^|[;&|({` + "`" + `]|\$\()\s*((npm|pnpm|yarn)\s+publish|cargo\s+publish|twine\s+upload|gem\s+push|poetry\s+publish)\b`), "publishes a package"},
}

// tokenHints are, lower-cased, the words one of which every credential store.TokenShape
// recognises contains: the byte and pair filters settle most text without running it.
var tokenHints = hints(`-----begin :// ghp_ gho_ ghu_ ghs_ ghr_ github_pat_ sk- xox akia asia aiza eyj ` +
	`sk_live_ sk_test_ rk_live_ rk_test_ glpat- npm_ pypi- hf_ sg. dop_v1_`)

// maxUnquote is the longest string also read as the shell would see it after quote removal.
const maxUnquote = 64 << 10

// unquoteShell returns v without the quotes and backslashes a shell removes from words,
// and with $IFS / ${IFS} as spaces, when that changes it (and v is a command's length).
func unquoteShell(v string) (string, bool) {
	// Four vectorised byte searches; ContainsAny tests a set byte by byte.
	if len(v) > maxUnquote || strings.IndexByte(v, '\'') < 0 && strings.IndexByte(v, '"') < 0 &&
		strings.IndexByte(v, '\\') < 0 && strings.IndexByte(v, '$') < 0 {
		return "", false
	}
	u := shellUnquoter.Replace(v)
	return u, u != v
}

var shellUnquoter = strings.NewReplacer(`'`, "", `"`, "", `\`, "", "${IFS}", " ", "$IFS", " ")

// dbClient finds a database's command-line client or a driver's call, whose quoted
// arguments are SQL.
var dbClient = pattern{hints(`psql mysql mariadb sqlite sqlcmd duckdb clickhouse cockroach execute exec query raw`),
	regexp.MustCompile(`(?i)\b(psql|mysql|mariadb|sqlite3?|sqlcmd|duckdb|clickhouse(-client)?|cockroach\s+sql)\b|\.(execute|executescript|executemany|exec|query|raw)\s*\(`), "runs SQL"}

// quotedRE finds the single- and double-quoted parts of a command line; maxQuoted bounds
// how many of one string are read as SQL.
var quotedRE = regexp.MustCompile(`'([^']*)'|"((?:[^"\\]|\\.)*)"`)

const maxQuoted = 64

// pathKinds and shellKinds are the finding kinds of sensitivePaths and shellPatterns.
var pathKinds, shellKinds = kinds("path:", sensitivePaths), kinds("shell:", shellPatterns)

func kinds(prefix string, ps []pattern) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = prefix + p.what
	}
	return out
}

// asciiTraits reports whether s is all printable ASCII (0x20 to 0x7e), and if so whether
// it has an upper-case letter; it looks at eight bytes at a time.
func asciiTraits(s string) (printable, upper bool) {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	var bad, up uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := load64(s, i)
		del := v ^ lsb*0x7f
		// A byte below 0x20, from 0x80, or 0x7f.
		bad |= (v-lsb*0x20)&^v | v | (del-lsb)&^del
		// With every byte below 0x80, adding 0x80-c sets a byte's high bit exactly when
		// the byte is at least c, with no carry into the next byte.
		up |= (v + lsb*(0x80-'A')) &^ (v + lsb*(0x80-'Z'-1))
	}
	if bad&msb != 0 {
		return false, false
	}
	upper = up&msb != 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false, false
		}
		upper = upper || c >= 'A' && c <= 'Z'
	}
	return true, upper
}

// load64 reads the eight bytes of s at i as a little-endian word (one load once compiled).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// stripHiddenArg removes hidden characters (see isHidden) from an argument's text, but
// keeps the white-space controls a shell or database reads as separators: a tab or a line
// break removed would join "ls\nrm -rf ~" into "lsrm -rf ~", and would let an SQL "--"
// comment swallow the statement on the next line. A vertical tab, which the searches'
// \s does not match, becomes a space.
func stripHiddenArg(s string) string {
	keep := func(r rune) bool { return r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' }
	n := 0
	for _, r := range s {
		if isHidden(r) && !keep(r) {
			n++
		}
	}
	if n == 0 && !strings.ContainsRune(s, '\v') {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\v':
			b.WriteByte(' ')
		case keep(r) || !isHidden(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkString checks one string value or key. A file URI with percent-escapes is
// checked decoded too, as the server will read it ("file:///home/u/%2Essh/id_rsa").
func (s *scanner) checkString(path, field, v string) {
	s.checkText(path, field, v)
	if !s.stopped && len(v) > 5 && strings.EqualFold(v[:5], "file:") && strings.IndexByte(v, '%') >= 0 {
		if d, err := url.PathUnescape(v); err == nil && d != v {
			s.checkText(path, field, d)
		}
	}
}

func (s *scanner) checkText(path, field, v string) {
	if len(v) > maxStringScan {
		s.add("long", Destructive, path, fmt.Sprintf("argument %s is longer than %d KiB; only its start was checked", path, maxStringScan>>10))
		v = v[:maxStringScan]
	}
	s.scanned += len(v)
	if s.scanned > maxTotalScan {
		s.add("truncated", Destructive, "arguments", fmt.Sprintf(
			"arguments are too large to check fully; only the first %d KiB of text was scanned", maxTotalScan>>10))
		s.stopped = true
		return
	}
	printable, upper := asciiTraits(v)
	if !printable { // printable ASCII has no bidi controls and nothing hidden
		for _, r := range v {
			if isBidi(r) {
				s.add("bidi", Write, path, fmt.Sprintf("argument %s contains hidden bidi control characters that can disguise its text", path))
				break
			}
		}
		v = stripHiddenArg(v)
	}
	t := textOf(v, printable, upper)
	defer t.release()
	tx := &t

	for i, p := range sensitivePaths {
		if s.byKind[pathKinds[i]] == nil && p.match(tx) {
			t := s.writeTier(SensitiveRead)
			text := fmt.Sprintf("argument %s %s", path, p.what)
			if t == Destructive {
				text += ", and the tool may change it"
			}
			s.add(pathKinds[i], t, path, text)
		}
	}
	for i, p := range shellPatterns {
		if s.byKind[shellKinds[i]] == nil && p.match(tx) {
			s.add(shellKinds[i], Destructive, path, fmt.Sprintf("argument %s %s", path, p.what))
		}
	}
	if u, ok := unquoteShell(v); ok {
		// The shell removes quotes and backslashes inside words and splits on $IFS:
		// "rm" -rf ~, r''m -rf ~, \rm, rm${IFS}-rf are all rm -rf.
		ut := textOf(u, printable, upper)
		for i, p := range shellPatterns {
			if s.byKind[shellKinds[i]] == nil && p.match(&ut) {
				s.add(shellKinds[i], Destructive, path, fmt.Sprintf("argument %s %s (with quotes or $IFS that the shell removes)", path, p.what))
			}
		}
		ut.release()
	}
	if kind, t, what := classifySQL(tx); t > SafeRead {
		s.add(kind, t, path, fmt.Sprintf("argument %s %s", path, what))
	}
	if s.byKind["secret"] == nil && tokenHints.in(tx) {
		if kind := store.TokenShape(v); kind != "" {
			s.add("secret", Destructive, path, fmt.Sprintf("argument %s holds a credential (%s): the server would receive it", path, kind))
		}
	}
	if dbClient.match(tx) {
		// SQL handed to a database's client or driver: psql -c '…', mysql -e "…",
		// sqlite3 app.db '…', echo '…' | psql, cursor.execute("…"), db.query('…'), and
		// the lines of a here-document (psql <<EOF … EOF).
		sql := func(q string) {
			if kind, t, what := classifySQLText(q, false, 1); t > SafeRead {
				s.add(kind, t, path, fmt.Sprintf("argument %s %s", path, what))
			}
		}
		for _, q := range quotedRE.FindAllStringSubmatch(v, maxQuoted) {
			sql(q[1] + q[2])
			// Code in quotes holds SQL in quotes of the other kind: -c "….execute('…')".
			for _, in := range quotedRE.FindAllStringSubmatch(q[1]+q[2], maxQuoted) {
				sql(in[1] + in[2])
			}
		}
		if i := strings.Index(v, "<<"); i >= 0 {
			if j := strings.IndexByte(v[i:], '\n'); j >= 0 {
				sql(v[i+j+1:])
			}
		}
	}
	if field != "" && fieldHas(field, moneyFields) && numRE.MatchString(v) {
		s.add("money", s.writeTier(Write), path, fmt.Sprintf("argument %s is an amount of money (%s)", path, excerpt(strings.TrimSpace(v))))
	} else if s.byKind["money"] == nil && moneyHints.in(tx) {
		if m := moneyRE.FindString(v); m != "" {
			s.add("money", s.writeTier(Write), path, fmt.Sprintf("argument %s mentions an amount of money (%s)", path, m))
		}
	}
	if field != "" && fieldHas(field, recipientFields) {
		addr := emailRE.FindString(v)
		if addr == "" && phoneRE.MatchString(strings.TrimSpace(v)) {
			addr = strings.TrimSpace(v)
		}
		if addr != "" {
			if s.name.send {
				s.add("recipient", Destructive, path, fmt.Sprintf("argument %s sends to %s", path, excerpt(addr)))
			} else {
				s.add("recipient", Write, path, fmt.Sprintf("argument %s names a recipient (%s)", path, excerpt(addr)))
			}
		}
	}
}
