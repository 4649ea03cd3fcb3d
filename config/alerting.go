package config

// AlertingConfig is the alerting section of gatewatch.yaml.
type AlertingConfig struct{}

func (c *AlertingConfig) applyDefaults() {}

func (c *AlertingConfig) validate(v *validator) {}

// paths lists the fields of the section that hold file paths.
func (c *AlertingConfig) paths() []*string { return nil }
