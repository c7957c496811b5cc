// Package cloud names the clouds asyncfn deploys to. Behaviour that differs
// by cloud (limits, defaults, error shapes) switches on a Provider, never on
// a bare string.
package cloud

// Provider is a cloud, as serverless.yml's provider.name spells it.
type Provider string

const (
	AWS     Provider = "aws"     // AWS Lambda
	Tencent Provider = "tencent" // Tencent Cloud SCF
)

// Known reports whether p is a provider asyncfn has an adapter for.
func (p Provider) Known() bool { return p == AWS || p == Tencent }
