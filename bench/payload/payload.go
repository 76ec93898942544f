// Package payload makes the text the proxy benchmark echoes, so that the in-process
// benchmarks and tests of the classifier and the self-protection scan use the same text.
package payload

// Text is n bytes of letters and digits in both cases that JSON never escapes: text in
// which every letter occurs, as in real arguments, so filters keyed on which bytes occur
// cannot skip work they would skip for one repeated byte.
func Text(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/61)%len(alphabet)]
	}
	return string(b)
}
