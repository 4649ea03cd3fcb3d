package config

import (
	"fmt"
	"os"
	"strings"
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

func (r *SecretRef) validate(v *validator, at []any) {
	if r.File != "" && r.Env != "" {
		v.errorf(at, "at most one of file and env may be set")
	}
}
