package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Secret is a credential read at run time. It never prints: String,
// GoString, YAML and JSON all give "<secret>".
type Secret string

const hidden = "<secret>"

func (Secret) String() string                 { return hidden }
func (Secret) GoString() string               { return hidden }
func (Secret) MarshalYAML() (any, error)      { return hidden, nil }
func (Secret) MarshalJSON() ([]byte, error)   { return []byte(`"` + hidden + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(hidden), nil }

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// SecretRef names where a secret comes from: a file (File) or an
// environment variable (Env). At most one may be set.
type SecretRef struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// IsSet reports whether the reference names a source.
func (r SecretRef) IsSet() bool { return r.File != "" || r.Env != "" }

// Read returns the secret, trimmed of surrounding white space. It is read
// each time it is needed, so a rotated key needs no restart.
func (r SecretRef) Read() (Secret, error) {
	switch {
	case r.File != "" && r.Env != "":
		return "", fmt.Errorf("at most one of file and env may be set for a secret")
	case r.File != "":
		b, err := os.ReadFile(r.File)
		if err != nil {
			return "", fmt.Errorf("reading secret file: %w", err)
		}
		return Secret(strings.TrimSpace(string(b))), nil
	case r.Env != "":
		v, ok := os.LookupEnv(r.Env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", r.Env)
		}
		return Secret(strings.TrimSpace(v)), nil
	}
	return "", nil
}

// UnmarshalYAML reads {file: PATH} or {env: NAME}. Anything else is
// refused without quoting it: a secret written inline must not reach the
// error message (yaml.v3's own type errors quote the value's start).
func (r *SecretRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected {file: PATH} or {env: NAME}; a secret is never written inline (the value is not repeated here)", n.Line)
	}
	for i := 1; i < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s of a secret must be a path or a variable name", k.Line, n.Content[i-1].Value)
		}
	}
	type plain SecretRef
	return n.Decode((*plain)(r))
}

// RedactURL returns u with the password of its user information, if any,
// replaced, for error messages about a URL that may not parse.
func RedactURL(u string) string {
	start := 0 // where the authority begins: after "scheme://" or a leading "//"
	if i := strings.Index(u, "://"); i >= 0 {
		start = i + 3
	} else if strings.HasPrefix(u, "//") {
		start = 2
	}
	rest := u[start:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return u
	}
	user := rest[:at]
	if c := strings.IndexByte(user, ':'); c >= 0 {
		user = user[:c] + ":" + hidden
	}
	return u[:start] + user + rest[at:]
}

func (r *SecretRef) validate(v *validator, at []any) {
	if r.File != "" && r.Env != "" {
		v.errorf(at, "at most one of file and env may be set")
	}
}
