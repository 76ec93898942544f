// Package consent decides what may run: launch consent, risk tiers, policy and the
// approval broker live in its subpackages.
package consent
