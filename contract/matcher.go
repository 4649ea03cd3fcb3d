package contract

// Matcher maps a request (method, path) to the contract endpoint the gateway
// itself would choose.
//
// This is a placeholder linear scan; it is being replaced by the real
// matcher.
type Matcher struct {
	eps []Endpoint
}

// NewMatcher builds a Matcher for c's endpoints.
func NewMatcher(c *Contract) *Matcher { return &Matcher{eps: c.Endpoints} }

// Match returns the endpoint for a request, or nil when none matches (the
// caller then uses Unmatched). path has no query string. Match is safe for
// concurrent use and does not allocate.
func (m *Matcher) Match(method, path string) *Endpoint {
	for i := range m.eps {
		if m.eps[i].Path == path {
			return &m.eps[i]
		}
	}
	return nil
}
