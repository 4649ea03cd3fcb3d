package config

import "github.com/gatewatch/gatewatch/contract"

// DefaultGatewayName names a gateway whose contract has no name and whose
// gatewatch.yaml sets no gateway.name.
const DefaultGatewayName = "gateway"

// GatewayName is the value of the gateway label for contract ct:
// gateway.name from gatewatch.yaml, else the contract's own name, else
// DefaultGatewayName. The sidecar exports it on every series and the rules
// generator selects it, so both call this function. cfg may be nil.
func GatewayName(ct *contract.Contract, cfg *Config) string {
	if cfg != nil && cfg.Gateway.Name != "" {
		return cfg.Gateway.Name
	}
	if ct != nil && ct.Name != "" {
		return ct.Name
	}
	return DefaultGatewayName
}
