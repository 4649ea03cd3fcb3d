package config

// SidecarConfig is the sidecar section of gatewatch.yaml.
type SidecarConfig struct{}

func (c *SidecarConfig) applyDefaults() {}

func (c *SidecarConfig) validate(v *validator) {}

// paths lists the fields of the section that hold file paths.
func (c *SidecarConfig) paths() []*string { return nil }
