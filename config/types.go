package config

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
)

// Duration is a YAML duration in Prometheus notation ("30s", "5m", "30d",
// "1h30m").
type Duration time.Duration

// UnmarshalYAML reads a duration and names the line of a bad one.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration such as 30s, 5m or 30d", n.Line)
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration; expected a number with a unit (ms, s, m, h, d, w, y) such as 30s, 5m or 30d", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration in the same notation.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) String() string { return model.Duration(d).String() }

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Glob reports whether name matches pattern, where '*' stands for any run
// of characters (slashes included) and every other character for itself.
func Glob(pattern, name string) bool { return contract.Glob(pattern, name) }
