package launch

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Fingerprint identifies what c runs: "sha256:" and the hex digest of its arguments,
// working directory, resolved executable, env keys and env values, except that secret
// values count only by their key (and a value that merely contains a secret, such as a
// URL with a password, counts without it). So rotating a token in the config does not
// change the fingerprint, while changing what runs or how it is reached does. Secrets
// written into Argv do count. Name is not included. Fingerprint is deterministic: map
// order does not matter and every string is length-prefixed, so ["a b"] and ["a", "b"]
// differ.
func Fingerprint(c Command) string { return fingerprint(c, classifyAll(c.Env)) }

// fingerprintVersion changes whenever the encoding below does, so that old approvals ask
// again rather than match by accident.
const fingerprintVersion = "airlock/consent/launch fingerprint v1"

func fingerprint(c Command, envs []envInfo) string {
	var b []byte
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(n int) { b = binary.AppendUvarint(b, uint64(n)) }

	str(fingerprintVersion)
	num(len(c.Argv))
	for _, a := range c.Argv {
		str(a)
	}
	str(c.Dir)
	str(c.Executable)
	num(len(envs))
	for _, e := range envs { // sorted by key
		str(e.key)
		switch {
		case e.whole:
			b = append(b, 1)
		case len(e.parts) > 0:
			b = append(b, 2)
			num(len(e.parts) + 1)
			last := 0
			for _, p := range e.parts {
				str(e.value[last:p[0]])
				last = p[1]
			}
			str(e.value[last:])
		default:
			b = append(b, 0)
			str(e.value)
		}
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
