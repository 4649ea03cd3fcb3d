package config

// ShipperConfig is the shipper section of gatewatch.yaml.
type ShipperConfig struct{}

func (c *ShipperConfig) applyDefaults() {}

func (c *ShipperConfig) validate(v *validator) {}

// paths lists the fields of the section that hold file paths.
func (c *ShipperConfig) paths() []*string { return nil }
