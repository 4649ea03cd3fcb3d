package config

import (
	"github.com/gatewatch/gatewatch/contract"
)

// OwnersConfig says which team answers for which endpoints.
type OwnersConfig struct {
	// Default is the team of endpoints no entry of Teams claims.
	Default string `yaml:"default"`
	// Teams are tried in order; the first team with a matching glob owns
	// the endpoint.
	Teams []Team `yaml:"teams"`
}

// Team is one owning team.
type Team struct {
	Name string `yaml:"name"`
	// Endpoints are endpoint names or globs ("/v1/orders*").
	Endpoints []string `yaml:"endpoints"`
}

const defaultTeam = "platform"

func (o *OwnersConfig) validate(v *validator) {
	seen := map[string]bool{}
	for i, t := range o.Teams {
		at := []any{"owners", "teams", i}
		if t.Name == "" {
			v.errorf(at, "name must be set")
		}
		if seen[t.Name] {
			v.errorf(append(at, "name"), "team %q is listed twice", t.Name)
		}
		seen[t.Name] = true
		if len(t.Endpoints) == 0 {
			v.errorf(at, "team %q claims no endpoints; list names or globs under endpoints", t.Name)
		}
	}
}

// OwnerOf returns the team that owns ep.
func (c *Config) OwnerOf(ep *contract.Endpoint) string {
	for _, t := range c.Owners.Teams {
		for _, g := range t.Endpoints {
			if Glob(g, ep.Name) {
				return t.Name
			}
		}
	}
	if c.Owners.Default != "" {
		return c.Owners.Default
	}
	return defaultTeam
}

// TeamNames returns every team name, the default last, without duplicates.
func (c *Config) TeamNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, t := range c.Owners.Teams {
		if !seen[t.Name] {
			names = append(names, t.Name)
			seen[t.Name] = true
		}
	}
	d := c.Owners.Default
	if d == "" {
		d = defaultTeam
	}
	if !seen[d] {
		names = append(names, d)
	}
	return names
}
